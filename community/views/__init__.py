"""HTML pages and the GitHub webhook receiver."""
