print("usage: pbxd-bench <parser|relay>")
