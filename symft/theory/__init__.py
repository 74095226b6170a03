"""The paper's statements as code: identities to check on a network, and the continuous limit.

* :mod:`symft.theory.identities` — AP6, AP7, AP8, AC2, AP9, P6, the P4
  example and the toy examples of §4, each evaluated on both sides;
* :mod:`symft.theory.continuous` — continuous networks (AD1), their
  discretization (AP4), operator derivatives (P4), the balance constant of
  AP5 and the smoothness measures of Eq. 1.
"""
