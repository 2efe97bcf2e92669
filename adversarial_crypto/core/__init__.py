"""The paper: bits, networks, losses, the three experiments and Section 2.5's training recipe."""
