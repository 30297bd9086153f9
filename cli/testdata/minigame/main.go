// Minigame is the smallest game binary ecsworld start can run: the CLI's
// end-to-end test builds it. Clients get an Account entity; the arena
// holds a few rocks, so the world has entities to count.
package main

import (
	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/cli/proc/gameproc"
	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/game"
)

const rocks = 5

func setup(config.Game, *zap.Logger) (game.Setup, error) {
	account := ecs.NewEntityType("Account").AOI(10)
	rock := ecs.NewEntityType("Rock").AOI(1)
	arena := ecs.NewEntityType("Arena").Space()
	return game.Setup{
		Types: []*ecs.EntityType{account, rock, arena},
		OnStart: func(g *game.Game) error {
			a, err := g.Create("Arena", ecs.CreateOptions{})
			if err != nil {
				return err
			}
			for i := range rocks {
				if _, err := g.Create("Rock", ecs.CreateOptions{Space: a, Pos: ecs.Vec3{X: float32(i)}}); err != nil {
					return err
				}
			}
			return nil
		},
	}, nil
}

func main() { gameproc.Main("minigame", setup) }
