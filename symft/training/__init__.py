"""Training for fault tolerance: the Eq. 1 regularizer (:mod:`symft.training.regularizer`) and training
(:mod:`symft.training.train`).  torch is an optional dependency, imported only when they run."""
