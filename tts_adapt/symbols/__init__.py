"""Symbol tables, the text front-end, and the table comparison report."""
