"""Training for fault tolerance: the Eq. 1 regularizer (:mod:`symft.training.regularizer`), training
(:mod:`symft.training.train`) and Algorithm 1 (:mod:`symft.training.algorithm1`).  torch is an optional
dependency, imported only when they run."""
