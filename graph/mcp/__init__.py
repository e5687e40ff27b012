"""The Model Context Protocol server: the store as tools for coding agents (``sessiongraph mcp``).

:mod:`graph.mcp.server` defines the tools, :mod:`graph.mcp.transcript` pages a session's
markdown, :mod:`graph.mcp.install` registers the server with Claude Code.
"""
