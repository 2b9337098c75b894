"""conflict-qa: quoted, source-cited answers over conflict reporting."""
