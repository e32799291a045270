"""Small helpers for apps' web servers: Apache-identical error pages, the tor2web refusal."""
