enum PlaceholderCatalog {}
