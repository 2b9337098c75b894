"""`python app.py` serves the chat on http://127.0.0.1:7860 over the default index.

It is `conflict-qa serve` under another name: the same options (`python app.py
--port 8000`) and environment variables (CONFLICT_QA_HOST, CONFLICT_QA_PORT,
CONFLICT_QA_INDEX, CONFLICT_QA_API_ORIGINS, CONFLICT_QA_EMBED_ORIGINS). When
index/ does not exist yet it is built from corpus/ first.
"""

import sys

from assistant.cli import main

if __name__ == "__main__":
    main(["serve", *sys.argv[1:]], prog_name="python app.py")
