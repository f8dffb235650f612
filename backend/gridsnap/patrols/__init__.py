"""按时巡: patrols with their tracks, the coverage of the cells they walked, and patrol plans."""
