"""A workshop in a room: one machine, JupyterHub, every participant with live services of their own.

room (where its files live, what the instructor set) · auth (who may sign in) · participant (their own
services) · containers (a container each, DockerSpawner) · inside (what runs in one) · learner (their copy
of the course) · proxy (configurable-http-proxy from npm) · hubconfig (the
hub's configuration) · hub (up/down) · board (progress) · boardpage (the board as the hub's page) · remote (a participant driven from Python) ·
command (``python -m foundations workshop``). See docs/workshop.md.
"""
