package commands

var zsetCommands = []cmdDef{}
