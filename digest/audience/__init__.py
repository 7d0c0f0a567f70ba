"""The subscriber side: who receives the newsletter, and what they asked for or what their mail
servers said (sign-ups, unsubscribes, bounces, complaints)."""
