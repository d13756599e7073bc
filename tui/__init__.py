"""The practitioner's and technician's terminal UI (Textual).

Layout:

- :mod:`tui.app` — the App: screen routing, the command palette (every key binding of the
  current screen is also a palette entry), quitting with everything committed.
- :mod:`tui.screens` — one module per screen: home (patients and plans), patient and plan
  forms, before the session, live session, end of session, replay, help, entry forms.
- :mod:`tui.widgets` — shot counter, depth gauge, zone progress, gun panel, event log, depth
  sparkline, alert banner, form fields.
- :mod:`tui.state` — frozen view-state dataclasses the screens render (tests feed them).
- :mod:`tui.feed_messages` — the messages between a live feed and the live screen, and the commands
  back; :mod:`tui.live_model` — the feed's bounded running picture of a session;
  :mod:`tui.session_feed` — the real feed: simulator or port → driver → recorder → session
  logic, in a thread worker, posting coalesced views.
- :mod:`tui.clinic` — the records side (patients, plans, series, checklist, review,
  sign-off) through the session logic, never SQL; :mod:`tui.demo_records` — the sample plan of
  ``injector demo``; :mod:`tui.services` — what the command hands the app.
"""
