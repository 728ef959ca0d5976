"""Short answers: typed candidate spans ranked by a learned model, and the probability that the
best one answers the question (answerability). Weights are learned by ``rag calibrate``."""
