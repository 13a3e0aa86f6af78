"""The shared vocabulary: models, configuration, URLs, text and HTML helpers, the XML guard and
the formats stages hand each other (queue messages, claim checks, stored documents).

May import: nothing else in newsroom.
"""
