print("pbxd")
