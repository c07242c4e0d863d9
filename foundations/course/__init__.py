"""Tutorial machinery: exercise checks, notebook setup, navigation, re-execution, showing the lesson's code."""
