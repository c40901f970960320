"""Detection of hijacked and abusive agent accounts."""
