package commands

var hashCommands = []cmdDef{}
