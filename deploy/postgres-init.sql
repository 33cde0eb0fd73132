-- One database per system (cityapi and Rasa both have a table named events), as scripts/topology makes them.
CREATE DATABASE trolyhue_city;
CREATE DATABASE trolyhue_actions;
CREATE DATABASE trolyhue_gateway;
CREATE DATABASE trolyhue_rasa;
