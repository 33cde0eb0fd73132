"""Custom actions of Trợ lý Huế (rasa-sdk); API clients live in actions/clients."""
