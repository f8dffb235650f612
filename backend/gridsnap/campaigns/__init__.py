"""专项: campaigns that take on a whole class of problem and show whether it recurs."""
