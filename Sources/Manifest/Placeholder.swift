enum PlaceholderManifest {}
