"""Trade study: measures of a bot's market and trades that help without any language model."""
