package commands

var listCommands = []cmdDef{}
