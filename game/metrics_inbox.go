package game

// InboxLen reports the decoded messages waiting for the tick and the
// inbox's capacity (Config.InboxSize), for the metrics exporter: a full
// inbox means the tick is not keeping up. Safe from any goroutine.
func (g *Game) InboxLen() (n, capacity int) { return len(g.inbox), cap(g.inbox) }
