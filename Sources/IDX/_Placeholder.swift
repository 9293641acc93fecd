// Placeholder so the target builds; delete when the module has real files.
