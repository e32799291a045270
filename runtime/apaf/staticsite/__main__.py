"""`python -m apaf.staticsite`: run the static-site app from the APAF_* environment."""
from apaf.staticsite import main

main()
