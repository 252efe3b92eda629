enum PlaceholderSegmenter {}
