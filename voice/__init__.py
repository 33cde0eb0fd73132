"""Speech in and out: decoding what citizens send, recognising it, and speaking the answers."""
