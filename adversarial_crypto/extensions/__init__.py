"""Beyond the paper: the research options of configs/secure16.py, composed with core/recipe.py."""
