package commands

var setCommands = []cmdDef{}
