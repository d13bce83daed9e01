"""The lessons' room: what exists for one notebook, built on the engine in helpers/.

Nothing in the engine imports from here. Each module is named for what it shows:
  quiz (every notebook) · compare (01, 02, 13, 17: concurrent or parallel, stacked
  timelines) · measure (04: small timings) · responsiveness (06: a text box beside a
  calculation) · races (08, 09) · philosophers (11) · queues (12: a queue's length under
  its threads' lanes) · script_runner (13: a script in a fresh Python) · generators (14: a
  generator stepped by hand) · event_loop (15, 16: asyncio tasks on a timeline) ·
  tasks_and_queues (16: who was inside a limit, counted) ·
  beyond_the_gil (17: what runs in parallel, the capstone) · tidy (every notebook:
  nothing left running at the end, measure again if busy)

    >>> from helpers.lessons import races
    >>> races.race(threads=2, iterations=1_000, use_lock=True).lost
    0
"""
