package commands

var streamCommands = []cmdDef{}
