"""The clinical record as plain types: vocabularies, shots and device events, input validation.

Nothing here touches a database or a port; storage and session logic build on these types.
"""
