"""PyMC twins of every Gibbs configuration, and the classical pooling baselines."""
