"""Guards: checks and rewrites applied to the customer's messages and the assistant's replies."""
