print("dbn: not yet built")
