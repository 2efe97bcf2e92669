"""Fresh Eves against frozen Alices: the attacker family, the evaluator and the verdicts."""
