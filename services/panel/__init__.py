"""The panel: server-rendered pages for customers and staff over the four services' HTTP APIs.

It owns no data: every page is what the services answer to the signed-in user's token."""
