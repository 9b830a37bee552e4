"""Administration pages: sign-in accounts. Admins see no one's records."""
