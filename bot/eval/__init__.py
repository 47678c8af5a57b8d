"""Evaluation of the whole assistant (python -m bot.eval) and its held-out data (bot/eval/data/)."""
