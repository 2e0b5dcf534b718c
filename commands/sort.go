package commands

var sortCommands = []cmdDef{}
