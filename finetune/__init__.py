"""Training of the assistant's models: the classifier heads (`finetune.classifiers`) and, to come, the LM
adapter. Shares prompt and feature code with `bot` so that training and serving see identical inputs."""
