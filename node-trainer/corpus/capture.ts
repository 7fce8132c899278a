/**
 * Live captures: a real program runs on a virtual X display (Xvfb) and ffmpeg's x11grab records
 * it. Games run their own demo/attract modes or get seeded random input from xdotool, screensaver
 * hacks animate by themselves, terminal programs run scripted sessions.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from './render.ts';
import { seededRandom } from './seeded.ts';

/** Input given to the program while it is recorded. */
export interface Driver {
  /** xdotool key names pressed at random (held for a random time). */
  keys?: string[];
  /** Left-clicks at random points of the screen. */
  clicks?: boolean;
  /** Where the clicks land: [x0, y0, x1, y1] (default: the whole screen). */
  clickArea?: [number, number, number, number];
  /** The mouse button clicked (default 1, the left). */
  button?: number;
  /** Seconds between two inputs, lower and upper bound. */
  every?: [number, number];
}

/** One program to record, with the label its footage gets. */
export interface CaptureSession {
  id: string;
  classId: 'animation' | 'gaming' | 'natural' | 'flat';
  subclass: string;
  source: string;
  pkg: string;
  /** The program's path, for the provenance manifest. */
  program: string;
  cmd: string;
  args: string[];
  size: [number, number];
  /** Seconds the program runs before recording starts (intro screens, loading). */
  warmup: number;
  driver?: Driver;
  /** Keys sent once before recording starts (e.g. to leave a menu). */
  startKeys?: string[];
  /** Points clicked once, in order, after the start keys (e.g. a toolbar's "Demo" button). */
  startClicks?: Array<[number, number]>;
  maxClips: number;
  /** Files written into the program's fresh HOME before it starts. */
  files?: Record<string, string>;
  /** Recording frame rate: x11grab plus software GL costs CPU, keep it modest. */
  fps?: number;
  /**
   * An unprivileged user to run the program as (for programs that refuse to run as root, like
   * freeciv's client). build.sh creates it; its fresh HOME is handed to it.
   */
  user?: string;
  /**
   * A source added after the full build of 2026-11-26 (400 clips per class): its clips come on top
   * of the class quota (`--per-class`), so adding it does not reshuffle the clips already cut.
   */
  extra?: boolean;
}

/** The unprivileged user that build.sh creates for programs that refuse root. */
export const CAPTURE_USER = 'vidkind-capture';

const XS = '/usr/libexec/xscreensaver';

/** A fresh HOME's kwalletrc that keeps KWallet's first-use wizard from covering a KDE game's window. */
const NO_KWALLET = { '.config/kwalletrc': '[Wallet]\nEnabled=false\nFirst Use=false\n' };

function hack(name: string, subclass: 'motion-graphics' | 'cgi-3d', pkg: string, extra: string[] = []): CaptureSession {
  return {
    id: `xscreensaver-${name}`,
    classId: 'animation',
    subclass,
    source: `xscreensaver:${name}`,
    pkg,
    program: `${XS}/${name}`,
    cmd: `${XS}/${name}`,
    args: ['-root', ...extra],
    size: [640, 360],
    warmup: 2,
    maxClips: 8,
  };
}

/** Every capture session, in a fixed order. */
export function allSessions(): CaptureSession[] {
  const motion2d: Array<[string, string]> = [
    ['anemone', 'xscreensaver-data-extra'],
    ['binaryring', 'xscreensaver-data-extra'],
    ['celtic', 'xscreensaver-data-extra'],
    ['coral', 'xscreensaver-data-extra'],
    ['fireworkx', 'xscreensaver-data-extra'],
    ['interaggregate', 'xscreensaver-data-extra'],
    ['substrate', 'xscreensaver-data-extra'],
    ['hexadrop', 'xscreensaver-data'],
    ['abstractile', 'xscreensaver-data-extra'],
    ['cwaves', 'xscreensaver-data-extra'],
    ['vermiculate', 'xscreensaver-data-extra'],
    ['squiral', 'xscreensaver-data-extra'],
    ['fiberlamp', 'xscreensaver-data-extra'],
  ];
  const gl: Array<[string, string]> = [
    ['atlantis', 'xscreensaver-gl-extra'],
    ['gears', 'xscreensaver-gl'],
    ['sproingies', 'xscreensaver-gl-extra'],
    ['endgame', 'xscreensaver-gl-extra'],
    ['juggler3d', 'xscreensaver-gl-extra'],
    ['winduprobot', 'xscreensaver-gl-extra'],
    ['pipes', 'xscreensaver-gl-extra'],
    ['rubik', 'xscreensaver-gl-extra'],
    ['moebius', 'xscreensaver-gl-extra'],
    ['stairs', 'xscreensaver-gl-extra'],
    ['companioncube', 'xscreensaver-gl-extra'],
    ['dangerball', 'xscreensaver-gl-extra'],
    ['lament', 'xscreensaver-gl-extra'],
    ['morph3d', 'xscreensaver-gl-extra'],
  ];
  const sessions: CaptureSession[] = [
    ...motion2d.map(([n, p]) => hack(n, 'motion-graphics', p)),
    ...gl.map(([n, p]) => hack(n, 'cgi-3d', p)),
  ];
  const game = (s: Omit<CaptureSession, 'classId' | 'maxClips'> & { maxClips?: number }): CaptureSession => ({
    classId: 'gaming',
    maxClips: 42,
    ...s,
  });
  // SDL 1.2 games run through sdl12-compat, whose default (GL) renderer stays black under Xvfb:
  // start them with the software renderer.
  const sdl12 = (program: string, args: string[]) => ({
    program,
    cmd: '/usr/bin/env',
    args: ['SDL_RENDER_DRIVER=software', program, ...args],
  });
  // KDE games quit at start without a D-Bus session bus, and open smaller than the screen: run them
  // under dbus-run-session and size the main window with Qt's -geometry. Qt ignores the keyboard
  // focus Xvfb gives without a window manager, so they are driven by clicks only.
  const kde = (program: string, args: string[], size: [number, number] = [854, 480]) => ({
    program,
    cmd: '/usr/bin/dbus-run-session',
    args: ['--', program, '-geometry', `${size[0]}x${size[1]}+0+0`, ...args],
    size,
  });
  sessions.push(
    game({
      id: 'openttd',
      subclass: 'strategy',
      source: 'openttd',
      pkg: 'openttd',
      program: '/usr/games/openttd',
      cmd: '/usr/games/openttd',
      // The title game: a running savegame with trains, road vehicles and ships behind the main menu
      // (a new game with -g, or the default video driver, stays black under Xvfb: use SDL).
      args: ['-r', '854x480', '-s', 'null', '-m', 'null', '-v', 'sdl'],
      size: [854, 480],
      warmup: 20,
      driver: { keys: ['Left', 'Right', 'Up', 'Down'], every: [1, 4] },
    }),
    game({
      id: 'minetest',
      subclass: 'sandbox',
      source: 'minetest',
      pkg: 'minetest',
      program: '/usr/games/minetest',
      cmd: '/usr/games/minetest',
      args: ['--go', '--random-input', '--world', 'world', '--gameid', 'minetest', '--name', 'player'],
      files: { 'world/world.mt': 'gameid = minetest\nbackend = sqlite3\nworld_name = vidkind\n' },
      size: [854, 480],
      warmup: 40,
    }),
    game({
      id: 'drascula',
      subclass: 'point-and-click',
      source: 'drascula',
      pkg: 'drascula',
      program: '/usr/games/drascula',
      cmd: '/usr/games/drascula',
      args: [],
      size: [640, 400],
      warmup: 6,
      startKeys: ['Return'],
      driver: { clicks: true, every: [2, 6] },
    }),
    game({
      id: 'lure',
      subclass: 'point-and-click',
      source: 'lure-of-the-temptress',
      pkg: 'lure-of-the-temptress',
      program: '/usr/games/lure',
      cmd: '/usr/games/lure',
      args: [],
      size: [640, 400],
      warmup: 5,
      driver: { clicks: true, every: [2, 6] },
    }),
    game({
      id: 'supertux',
      subclass: 'arcade',
      source: 'supertux',
      pkg: 'supertux',
      program: '/usr/games/supertux2',
      cmd: '/usr/games/supertux2',
      args: [
        '--window',
        '--geometry',
        '854x480',
        '--disable-sound',
        '--disable-music',
        '--renderer',
        'sdl',
        '/usr/share/games/supertux2/levels/world1/welcome_antarctica.stl',
      ],
      size: [854, 480],
      warmup: 20,
      // Start Game, first world, first level on the map.
      driver: { keys: ['Right', 'Right', 'Right', 'space', 'space', 'Left', 'Up'], every: [0.2, 1.2] },
    }),
    game({
      id: 'neverball',
      subclass: 'arcade',
      source: 'neverball',
      pkg: 'neverball',
      program: '/usr/games/neverball',
      cmd: '/usr/games/neverball',
      // Straight into an easy level; the ball is tilted with the arrow keys.
      args: ['-l', 'map-easy/easy.sol'],
      size: [800, 600],
      warmup: 30,
      // A click starts the level (and restarts it after a fall); arrows tilt the floor.
      driver: { keys: ['Left', 'Right', 'Up', 'Up', 'Down'], clicks: true, every: [0.3, 1.5] },
    }),
    game({
      id: 'armagetronad',
      subclass: 'arcade',
      source: 'armagetronad',
      pkg: 'armagetronad',
      program: '/usr/games/armagetronad',
      cmd: '/usr/games/armagetronad',
      args: [],
      size: [800, 600],
      warmup: 25,
      // Language, then Game > Local game > start.
      startKeys: ['Return', 'Return', 'Return', 'Return'],
      driver: { keys: ['Left', 'Right'], every: [0.4, 2] },
    }),
    game({
      id: 'openarena',
      subclass: 'first-person-3d',
      source: 'openarena',
      pkg: 'openarena',
      program: '/usr/games/openarena',
      cmd: '/usr/games/openarena',
      // A free-for-all on the first map against bots; the player walks, turns and fires at random.
      args: [
        '+set',
        'r_mode',
        '-1',
        '+set',
        'r_customwidth',
        '854',
        '+set',
        'r_customheight',
        '480',
        '+set',
        'r_fullscreen',
        '0',
        '+set',
        's_initsound',
        '0',
        '+set',
        'com_introplayed',
        '1',
        '+set',
        'bot_minplayers',
        '4',
        '+set',
        'g_spSkill',
        '2',
        '+map',
        'oa_dm1',
      ],
      size: [854, 480],
      warmup: 75,
      driver: { keys: ['w', 'w', 'w', 'a', 'd', 'Left', 'Right', 'Left', 'Right', 'space', 'ctrl'], every: [0.2, 1] },
    }),
    game({
      id: 'chromium-bsu',
      subclass: 'arcade',
      source: 'chromium-bsu',
      pkg: 'chromium-bsu',
      program: '/usr/games/chromium-bsu',
      cmd: '/usr/games/chromium-bsu',
      args: [],
      size: [640, 480],
      warmup: 6,
      startKeys: ['Return'],
      driver: { keys: ['Left', 'Right', 'Up', 'Down', 'space'], every: [0.2, 1.0] },
    }),
    game({
      id: 'xgalaga',
      subclass: 'arcade',
      source: 'xgalaga',
      pkg: 'xgalaga',
      program: '/usr/games/xgalaga',
      cmd: '/usr/games/xgalaga',
      args: ['-window', '-nosound', '-keyboard'],
      size: [640, 480],
      warmup: 4,
      // Space starts a game from the title; clicks keep the pointer (and so the focus) in the window.
      startKeys: ['space'],
      driver: { keys: ['Left', 'Right', 'Left', 'Right', 'space', 'space'], clicks: true, every: [0.1, 0.6] },
      maxClips: 25,
    }),
    game({
      id: 'xboard-chess',
      subclass: 'strategy',
      source: 'xboard+gnuchess',
      pkg: 'xboard',
      program: '/usr/games/xboard',
      cmd: '/usr/games/xboard',
      // Board games are labelled strategy: src/core/taxonomy.ts has no puzzle/board subclass.
      // An engine-vs-engine match of gnuchess against itself at one minute a game; xboard waits
      // ~10 s per engine for a protocol reply gnuchess never sends, hence the long warmup.
      args: [
        '-fcp',
        '/usr/games/gnuchess -x',
        '-scp',
        '/usr/games/gnuchess -x',
        '-mm',
        '-mg',
        '50',
        '-tc',
        '1',
        '-size',
        'medium',
        '-popupExitMessage',
        'false',
      ],
      size: [526, 624],
      warmup: 30,
      maxClips: 25,
    }),
    game({
      id: 'lincity',
      subclass: 'strategy',
      source: 'lincity',
      pkg: 'lincity',
      program: '/usr/games/xlincity',
      cmd: '/usr/games/xlincity',
      args: [],
      size: [640, 480],
      warmup: 6,
      // Past the title: a top-down city map where random clicks build and bulldoze while the years
      // pass; Return closes the "not invented yet" notices that pause the game.
      startKeys: ['space', 'space'],
      driver: { keys: ['Return'], clicks: true, every: [0.3, 1.5] },
      maxClips: 25,
    }),
    game({
      id: 'gnome-mines',
      subclass: 'strategy',
      source: 'gnome-mines',
      pkg: 'gnome-mines',
      program: '/usr/games/gnome-mines',
      cmd: '/usr/games/gnome-mines',
      args: [],
      size: [640, 480],
      warmup: 6,
      // Random clicks uncover cells, lose, and press "Play Again". In the seeded recording the window
      // is gone after 69 s (a click on its close button, it seems) and the screen stays black: the
      // first 6 clips end by 61 s.
      driver: { clicks: true, every: [0.3, 1.2] },
      maxClips: 6,
    }),
    game({
      id: 'blobwars',
      subclass: 'arcade',
      source: 'blobwars',
      pkg: 'blobwars',
      program: '/usr/games/blobwars',
      cmd: '/usr/games/blobwars',
      // Straight into a side-scrolling platform level (menus are timing-dependent under random keys).
      args: ['-window', '-noaudio', '-map', 'data/grasslands1'],
      size: [640, 480],
      warmup: 10,
      startKeys: ['Return'],
      driver: { keys: ['Left', 'Right', 'Right', 'Up', 'ctrl', 'space', 'Right'], every: [0.1, 0.6] },
      maxClips: 25,
    }),
    game({
      id: 'powermanga',
      subclass: 'arcade',
      source: 'powermanga',
      pkg: 'powermanga',
      ...sdl12('/usr/games/powermanga', ['--window', '--nosound']),
      files: { '.config/tlk-games/.keep': '' },
      size: [640, 400],
      warmup: 6,
      startKeys: ['Return', 'Return'],
      driver: { keys: ['Left', 'Right', 'Up', 'Down', 'ctrl', 'ctrl', 'space'], every: [0.1, 0.6] },
      maxClips: 25,
    }),
    game({
      id: 'kobodeluxe',
      subclass: 'arcade',
      source: 'kobodeluxe',
      pkg: 'kobodeluxe',
      ...sdl12('/usr/games/kobodl', ['-nofullscreen', '-width', '640', '-height', '480', '-nosound']),
      size: [640, 480],
      warmup: 6,
      // Intro, then "New Player": a top-down shooter in a scrolling maze of space stations.
      startKeys: ['Return', 'Return'],
      driver: { keys: ['Left', 'Right', 'Up', 'Down', 'Left', 'Up', 'ctrl', 'ctrl'], every: [0.1, 0.6] },
      maxClips: 25,
    }),
    game({
      id: 'freedroid',
      subclass: 'arcade',
      source: 'freedroid',
      pkg: 'freedroid',
      ...sdl12('/usr/games/freedroid', ['-w', '-q']),
      size: [640, 480],
      warmup: 8,
      // Past the title into the ship: a top-down droid shooter on a scrolling deck.
      startKeys: ['space', 'Return', 'space'],
      driver: { keys: ['Left', 'Right', 'Up', 'Down', 'Left', 'Right', 'space'], every: [0.1, 0.6] },
      maxClips: 25,
    }),
    game({
      id: 'xmoto',
      subclass: 'arcade',
      source: 'xmoto',
      pkg: 'xmoto',
      program: '/usr/games/xmoto',
      cmd: '/usr/games/xmoto',
      // Straight into a level: a 2D side-view motocross physics game. A fresh HOME first builds the
      // level database (~20 s).
      args: ['-win', '-res', '800x600', '--nosound', '-l', '_iL00_'],
      size: [800, 600],
      warmup: 30,
      startKeys: ['Return'],
      driver: { keys: ['Up', 'Up', 'Up', 'Left', 'Right', 'Down', 'space', 'Return'], every: [0.2, 1.0] },
      maxClips: 25,
    }),
    game({
      id: 'extremetuxracer',
      subclass: 'first-person-3d',
      source: 'extremetuxracer',
      pkg: 'extremetuxracer',
      program: '/usr/games/etr',
      cmd: '/usr/games/etr',
      args: [],
      size: [800, 600],
      warmup: 15,
      // Through the menus into the first race (a 3D downhill slope, seen from behind Tux).
      startKeys: ['Return', 'Return', 'Return', 'Return', 'Return'],
      driver: { keys: ['Left', 'Right', 'Up', 'Up', 'Down', 'space', 'Return'], every: [0.2, 1] },
      maxClips: 25,
    }),
    game({
      id: 'crawl-tiles',
      subclass: 'strategy',
      source: 'crawl-tiles',
      pkg: 'crawl-tiles',
      program: '/usr/games/crawl-tiles',
      cmd: '/usr/games/crawl-tiles',
      // Dungeon Crawl Stone Soup with its tile graphics: a new character on a seeded dungeon ("a" and
      // the random keys get through the character menus: the species and background it ends with vary)
      // explores a top-down tiled map; "o" auto-explores, Tab auto-fights.
      args: [
        '-name',
        'vidkind',
        '-species',
        'Minotaur',
        '-background',
        'Fighter',
        '-seed',
        '7',
        '-extra-opt-first',
        'tile_full_screen=false',
        '-extra-opt-first',
        'tile_window_width=854',
        '-extra-opt-first',
        'tile_window_height=480',
      ],
      size: [854, 480],
      warmup: 10,
      startKeys: ['a'],
      driver: { keys: ['o', 'o', 'o', 'o', 'Tab', 'Tab', 'h', 'j', 'k', 'l', 'y', 'u', 'b', 'n', 'greater', 'Escape'], every: [0.3, 1.2] },
      maxClips: 25,
    }),
    game({
      id: 'frozen-bubble',
      subclass: 'arcade',
      source: 'frozen-bubble',
      pkg: 'frozen-bubble',
      // A solo game straight away: coloured bubbles shot at a cluster (a 2D puzzle shooter).
      ...sdl12('/usr/games/frozen-bubble', ['--solo', '--no-sound', '--no-fullscreen']),
      size: [640, 480],
      warmup: 10,
      driver: { keys: ['Left', 'Right', 'Up', 'Up', 'Left', 'Right'], every: [0.1, 0.8] },
      maxClips: 25,
    }),
    game({
      id: 'kpat',
      subclass: 'strategy',
      source: 'kpat',
      pkg: 'kpat',
      // Klondike patience; the toolbar's "Demo" button makes the solver play the deal by itself.
      ...kde('/usr/games/kpat', ['--gametype', 'klondike', '--start', '7']),
      warmup: 12,
      startClicks: [[358, 40]],
      // The demo wins the deal after about 80 s and then shows a static "Congratulations": 7 clips.
      maxClips: 7,
    }),
    game({
      id: 'kreversi',
      subclass: 'strategy',
      source: 'kreversi',
      pkg: 'kreversi',
      // Reversi on a wooden board, computer against computer: the new-game dialog's first player is
      // switched to "Computer", then "Start game".
      ...kde('/usr/games/kreversi', []),
      warmup: 12,
      startClicks: [
        [197, 82],
        [357, 230],
      ],
      // The game is over after about 55 s (a static result dialog follows): 5 clips.
      maxClips: 5,
    }),
    game({
      id: 'kblocks',
      subclass: 'arcade',
      source: 'kblocks',
      pkg: 'kblocks',
      // Game > "Human vs AI": two falling-block wells side by side, the right one played by the AI.
      ...kde('/usr/games/kblocks', []),
      warmup: 12,
      startClicks: [
        [25, 10],
        [74, 59],
      ],
      // Nobody plays the left well, which fills up within about a minute and ends the game: 5 clips.
      maxClips: 5,
    }),
    game({
      id: 'gnome-mahjongg',
      subclass: 'strategy',
      source: 'gnome-mahjongg',
      pkg: 'gnome-mahjongg',
      program: '/usr/games/gnome-mahjongg',
      cmd: '/usr/games/gnome-mahjongg',
      args: [],
      size: [854, 480],
      warmup: 8,
      // A mahjong solitaire layout of tiles; random clicks select tiles (and remove matching pairs).
      driver: { clicks: true, every: [0.3, 1.2] },
      maxClips: 25,
    }),
    // Added on top of the quota (extra), for the 2D strategy and board games that the cross-validation
    // by source got wrong (2026-11-26, gaming F1 0.36): 40 clips each.
    game({
      id: 'wesnoth-game',
      subclass: 'strategy',
      // Gameplay, not the story art that wesnoth-1.16-data gives animation/illustrated-story.
      source: 'wesnoth-game',
      pkg: 'wesnoth-1.16-core',
      program: '/usr/games/wesnoth-1.16',
      cmd: '/usr/games/wesnoth-1.16',
      // A two-player map, both sides played by the AI: units walk, fight and take villages on a
      // hex map. A game that ends quits (the screen goes black: the builder drops black clips).
      args: [
        '--windowed',
        '--resolution',
        '854x480',
        '--nosound',
        '--rng-seed',
        '7',
        '--multiplayer',
        '--controller',
        '1:ai',
        '--controller',
        '2:ai',
        '--scenario',
        'multiplayer_The_Freelands',
        '--exit-at-end',
      ],
      size: [854, 480],
      warmup: 25,
      maxClips: 40,
      extra: true,
    }),
    game({
      id: 'freeciv',
      subclass: 'strategy',
      source: 'freeciv',
      pkg: 'freeciv-client-gtk3',
      program: '/usr/games/freeciv-gtk3.22',
      // The client refuses to run as root: the server (6 AI players, 3 s turns) and the GTK client
      // (a global observer) run as an unprivileged user. Right-clicks on the overview map move the
      // view over the world while the AI nations build, settle and move.
      cmd: '/bin/sh',
      args: ['play.sh'],
      user: CAPTURE_USER,
      files: {
        'play.sh': [
          '#!/bin/sh',
          '(sleep 8; echo "observe vidkind"; sleep 2; echo start; sleep 100000) | /usr/games/freeciv-server -p 5556 -r vidkind.serv -e > server.log 2>&1 &',
          'sleep 3',
          '/usr/games/freeciv-gtk3.22 -a -s localhost -p 5556 -n vidkind -P none -- --resolution 854x480 &',
          '# No window manager: the client window is moved over the whole screen.',
          'xdotool search --sync --onlyvisible --class freeciv windowmove 0 0 windowsize 854 480',
          'sleep 12',
          'xdotool search --onlyvisible --class freeciv windowmove 0 0 windowsize 854 480',
          'wait',
          '',
        ].join('\n'),
        'vidkind.serv': [
          'rulesetdir classic',
          'set minplayers 0',
          'set aifill 6',
          'set gameseed 7',
          'set mapseed 7',
          'set endturn 5000',
          'set timeout 3',
          '',
        ].join('\n'),
      },
      size: [854, 480],
      warmup: 30,
      driver: { clicks: true, clickArea: [12, 32, 158, 120], button: 3, every: [2, 6] },
      maxClips: 40,
      extra: true,
    }),
    game({
      id: 'ksquares',
      subclass: 'strategy',
      source: 'ksquares',
      pkg: 'ksquares',
      // Dots and boxes, four computer players (--demo): lines are drawn and boxes fill with colour;
      // a new game starts when the board is full.
      ...kde('/usr/games/ksquares', ['--demo']),
      warmup: 10,
      maxClips: 40,
      extra: true,
    }),
    // Added on top of the quota (extra) on 2026-11-27, two more board and war games of the kind
    // the cross-validation still got wrong (gaming F1 0.475): 40 clips each.
    game({
      id: 'pioneers',
      subclass: 'strategy',
      source: 'pioneers',
      pkg: 'pioneers',
      program: '/usr/games/pioneers',
      // The Settlers-of-Catan board game: a server with four computer players (pioneersai, one move
      // a second), watched by the GTK client as a spectator. 14 points to win (10 by default) keep
      // one game going through the whole recording. The server starts pioneersai from PATH.
      cmd: '/bin/sh',
      args: ['play.sh'],
      files: {
        'play.sh': [
          '#!/bin/sh',
          'export PATH=/usr/games:$PATH',
          'pioneers-server-console -p 5601 -P 4 -c 4 -v 14 -T 1 -g Default > server.log 2>&1 &',
          'sleep 3',
          'pioneers -s localhost -p 5601 -n watcher -v > client.log 2>&1 &',
          '# No window manager: the client window is moved over the whole screen.',
          'xdotool search --sync --onlyvisible --class pioneers windowmove 0 0 windowsize 854 480',
          'wait',
          '',
        ].join('\n'),
      },
      size: [854, 480],
      warmup: 12,
      maxClips: 40,
      extra: true,
    }),
    game({
      id: 'lgeneral',
      subclass: 'strategy',
      source: 'lgeneral',
      pkg: 'lgeneral',
      // A Panzer General clone on a World War I scenario of lgeneral-data, both sides played by the
      // computer: units move and fight on a hex map. Clicks dismiss the "next player" screen between
      // turns (a click on the map during the computer's turn does nothing).
      ...sdl12('/usr/games/lgeneral', ['--notitle', '--control=cpu', '--control=cpu', '--no-deploy-turn', 'kukgen/Isonzo_1915']),
      size: [800, 600],
      warmup: 10,
      driver: { clicks: true, clickArea: [300, 200, 500, 400], every: [3, 6] },
      maxClips: 40,
      extra: true,
    }),
    // Three more on 2026-11-27, for painted 2D maps and a 2D side-view game: 40 clips each.
    game({
      id: 'ksirk',
      subclass: 'strategy',
      source: 'ksirk',
      pkg: 'ksirk',
      // KDE's Risk: a painted world map where armies are placed, attack (dice) and move. The start
      // clicks go through the new-game pages: New Local Game, 4 players, "World conquest" (a game lasts
      // far longer than the recording), then "Player is computer" and Next for each player, Start.
      // NO_KWALLET keeps KWallet's first-use wizard away; helpEnabled=false its "place your armies" tips.
      ...kde('/usr/games/ksirk', []),
      files: {
        ...NO_KWALLET,
        '.config/ksirkrc': '[General]\nhelpEnabled=false\nsoundEnabled=false\n',
      },
      warmup: 12,
      startClicks: [
        [427, 229],
        [836, 98],
        [836, 98],
        [28, 244],
        [804, 458],
        // "Player is computer", Next: players 1 to 4; then Start (where Next was).
        [16, 133],
        [804, 458],
        [16, 133],
        [804, 458],
        [16, 133],
        [804, 458],
        [16, 133],
        [804, 458],
        [804, 458],
      ],
      maxClips: 40,
      extra: true,
    }),
    game({
      id: 'widelands',
      subclass: 'strategy',
      source: 'widelands',
      pkg: 'widelands',
      program: '/usr/games/widelands',
      cmd: '/usr/games/widelands',
      // A Settlers-like economy game on painted 2D terrain: a new game from a template, two normal AIs
      // on the map Crater and no interactive player (interactive_player=0: a spectator), so the game
      // starts without menus. The view opens on the first AI's headquarters, where carriers walk its
      // roads and builders raise its buildings; short arrow-key presses scroll the view a little.
      // Widelands quits at start if ~/.config/widelands cannot be created: the config file makes it.
      args: ['--nosound', '--xres=854', '--yres=480', '--new_game_from_template=vidkind.tmpl'],
      files: {
        '.config/widelands/config': '[global]\nxres="854"\nyres="480"\n',
        '.local/share/widelands/vidkind.tmpl': [
          '[global]',
          'multiplayer="true"',
          'map="maps/Crater.wmf"',
          'interactive_player="0"',
          'win_condition="endless_game_fogless.lua"',
          '[player_1]',
          'init="headquarters.lua"',
          'ai="normal"',
          '[player_2]',
          'init="headquarters.lua"',
          'ai="normal"',
          '',
        ].join('\n'),
      },
      size: [854, 480],
      warmup: 40,
      driver: { keys: ['Left', 'Right', 'Up', 'Down'], every: [3, 8] },
      maxClips: 40,
      extra: true,
    }),
    game({
      id: 'hedgewars',
      // Turn-based artillery (Hedgewars calls itself a turn-based strategy game): labelled strategy
      // like the other turn-based games, although its side view looks like the arcade platformers.
      subclass: 'strategy',
      source: 'hedgewars',
      pkg: 'hedgewars',
      program: '/usr/lib/hedgewars/bin/hwengine',
      // The engine alone, without its Qt frontend: it plays a record file that holds only a game
      // config (the frontend's IPC messages, each prefixed by its length: "TL", a local game, and a
      // Lua script). The script puts two teams of four computer hedgehogs on a generated map, and
      // they take turns to shoot at each other. A finished game quits the engine: the loop starts the
      // next one with another seed and theme. The engine sometimes hangs at start (a deadlock, 0% CPU,
      // a dark screen): the loop kills it when its CPU time stops growing for 10 s.
      cmd: '/bin/sh',
      args: ['play.sh'],
      files: {
        'play.sh': [
          '#!/bin/sh',
          'mkdir -p .hedgewars/Data/Missions',
          'n=0',
          'while true; do',
          '  n=$((n + 1))',
          '  theme=$(echo Nature Castle Desert Island Jungle Snow Cake Halloween | cut -d" " -f$(((n - 1) % 8 + 1)))',
          '  sed -e "s/@SEED@/vidkind-$n/" -e "s/@THEME@/$theme/" vidkind.lua > .hedgewars/Data/Missions/vidkind.lua',
          "  printf '\\002TL\\034escript Missions/vidkind.lua' > game.hwd",
          '  /usr/lib/hedgewars/bin/hwengine game.hwd --prefix /usr/share/games/hedgewars/Data \\',
          '    --user-prefix "$HOME/.hedgewars" --width 854 --height 480 --nosound --nomusic --frame-interval 60 \\',
          '    > engine.log 2>&1 &',
          '  pid=$!',
          '  last=',
          '  while sleep 10; do',
          '    s=$(awk \'{print $3 " " $14 + $15}\' /proc/$pid/stat 2>/dev/null)',
          '    case "$s" in "" | Z*) break ;; esac',
          '    [ "${s#* }" = "$last" ] && kill -9 $pid',
          '    last=${s#* }',
          '  done',
          '  wait $pid',
          'done',
          '',
        ].join('\n'),
        'vidkind.lua': [
          'function onGameInit()',
          '  Seed = "@SEED@"',
          '  Theme = "@THEME@"',
          '  MapGen = mgRandom',
          '  TurnTime = 20000',
          '  CaseFreq = 3',
          '  MinesNum = 4',
          '  Explosives = 2',
          '  AddTeam("Red", -1, "Simple", "Island", "Default_qau", "hedgewars")',
          '  for i = 1, 4 do AddHog("Red " .. i, 3, 100, "NoHat") end',
          '  AddTeam("Blue", -2, "Simple", "Island", "Default_qau", "hedgewars")',
          '  for i = 1, 4 do AddHog("Blue " .. i, 3, 100, "NoHat") end',
          'end',
          'function onAmmoStoreInit()',
          '  for _, a in ipairs({ amBazooka, amGrenade, amClusterBomb, amShotgun, amFirePunch, amBaseballBat, amMortar, amDynamite, amSkip }) do',
          '    SetAmmo(a, 9, 0, 0, 0)',
          '  end',
          'end',
          '',
        ].join('\n'),
      },
      size: [854, 480],
      warmup: 15,
      maxClips: 40,
      extra: true,
    }),
    // Board games on top of the quota (extra), 2026-11-27: the cross-validation still took board
    // footage for flat content or animation (ksquares 0/40, xboard chess 1/17 right).
    game({
      id: 'knights',
      subclass: 'strategy',
      source: 'knights',
      pkg: 'knights',
      // KDE's chess board (wooden "Knights" theme, move history hidden), gnuchess against gnuchess:
      // knightsrc presets both players to the engine, so the start clicks are New and the new-game
      // dialog's OK. computerDelay holds each move 3 s, so that a game lasts longer. gnuchess drops
      // commands that reach it before it is ready or several in one read, and knights writes
      // "xboard", then depth and "go" at once: gnuchess.sh (run from the HOME, knights' working
      // directory) passes them on a line at a time.
      ...kde('/usr/games/knights', []),
      files: {
        ...NO_KWALLET,
        '.config/knightsrc': [
          '[KgTheme]',
          'Theme=themes/knights.desktop',
          '[Preferences]',
          'playSounds=false',
          'animationSpeed=Normal',
          'showHistory=false',
          '[Protocols]',
          'player1Protocol=XBoard',
          'player2Protocol=XBoard',
          'player1Program=GNU Chess',
          'player2Program=GNU Chess',
          'engineConfigurations=GNU Chess:/bin/sh gnuchess.sh:xboard',
          'computerDelay=3000',
          '[Accessibility]',
          'speakOpponentsMoves=false',
          '',
        ].join('\n'),
        'gnuchess.sh': ['#!/bin/sh', '(sleep 1; while read -r line; do echo "$line"; sleep 0.3; done) | exec /usr/games/gnuchess', ''].join(
          '\n',
        ),
      },
      warmup: 12,
      startClicks: [
        [26, 38],
        [590, 336],
      ],
      // The build's 399 s recording went black at ~290 s (the window gone after the game): 28 clips.
      maxClips: 28,
      extra: true,
    }),
    game({
      id: 'kigo',
      subclass: 'strategy',
      source: 'kigo',
      pkg: 'kigo',
      // KDE's Go board, 19x19 with 4 handicap stones, GNU Go (level 5) against itself: kigorc makes
      // both players computers, so the start click is the toolbar's "Start Game". The window needs
      // 629 px of height (its side docks), hence 854x640. GNU Go answers within a second and a game
      // would be over in ~3 min: gnugo.sh (run from the HOME, kigo's working directory) holds each
      // genmove 2 s, about 2.5 s a move.
      ...kde('/usr/games/kigo', [], [854, 640]),
      files: {
        ...NO_KWALLET,
        '.config/kigorc': [
          '[Backend]',
          'EngineCommand=/bin/sh gnugo.sh',
          '[Game]',
          'BlackPlayerHuman=false',
          'WhitePlayerHuman=false',
          'BlackPlayerStrength=5',
          'WhitePlayerStrength=5',
          'BoardSize=19',
          '',
        ].join('\n'),
        'gnugo.sh': [
          '#!/bin/sh',
          'while read -r line; do',
          '  case "$line" in genmove*) sleep 2 ;; esac',
          '  echo "$line"',
          'done | exec /usr/games/gnugo --mode gtp',
          '',
        ].join('\n'),
      },
      warmup: 12,
      startClicks: [[88, 38]],
      maxClips: 40,
      extra: true,
    }),
  );
  // Flat: terminals, an editor, a pager, spreadsheets and application windows.
  const term = (
    id: string,
    source: string,
    pkg: string,
    program: string,
    command: string[],
    subclass: string,
    driver?: Driver,
    dark = false,
  ): CaptureSession => ({
    id,
    classId: 'flat',
    subclass,
    source,
    pkg,
    program,
    cmd: '/usr/bin/xterm',
    args: [
      '-geometry',
      '120x33+0+0',
      '-fa',
      'DejaVu Sans Mono',
      '-fs',
      '10',
      ...(dark ? ['-bg', 'black', '-fg', 'gray85'] : []),
      '-e',
      ...command,
    ],
    size: [854, 480],
    warmup: 4,
    maxClips: 14,
    ...(driver ? { driver } : {}),
  });
  const scrollKeys: Driver = { keys: ['Down', 'Down', 'Down', 'Next', 'Prior', 'space'], every: [0.5, 2.5] };
  const vimKeys: Driver = { keys: ['j', 'j', 'j', 'ctrl+d', 'ctrl+u', 'ctrl+f', 'k', 'w', 'b'], every: [0.3, 2] };
  const py = '/usr/lib/python3.11';
  sessions.push(
    term('top', 'procps:top', 'procps', '/usr/bin/top', ['top', '-d', '1'], 'code-terminal', undefined, true),
    term('htop', 'htop', 'htop', '/usr/bin/htop', ['htop', '-d', '10'], 'code-terminal', {
      keys: ['Down', 'Down', 'Up', 'F6', 'Escape', 'Next'],
      every: [1, 4],
    }),
    term(
      'vim-python',
      'python3.11:stdlib',
      'libpython3.11-stdlib',
      `${py}/json/decoder.py`,
      ['vim', '-R', '-c', 'syntax on', `${py}/json/decoder.py`],
      'code-terminal',
      vimKeys,
      true,
    ),
    term(
      'vim-c',
      'libspatialite7:examples',
      'libspatialite7',
      '/usr/share/doc/libspatialite7/examples/demo1.c',
      ['vim', '-R', '-c', 'syntax on', '-c', 'set number', '/usr/share/doc/libspatialite7/examples/demo1.c'],
      'code-terminal',
      vimKeys,
    ),
    term(
      'less-argparse',
      'python3.11:argparse',
      'libpython3.11-stdlib',
      `${py}/argparse.py`,
      ['less', '-N', `${py}/argparse.py`],
      'code-terminal',
      scrollKeys,
    ),
    term('man-bash', 'bash:man', 'bash', '/usr/share/man/man1/bash.1.gz', ['man', 'bash'], 'code-terminal', scrollKeys, true),
    term(
      'shell-listing',
      'coreutils:ls',
      'coreutils',
      '/usr/bin/ls',
      [
        'bash',
        '-c',
        'while true; do for d in /usr/bin /usr/lib /etc /usr/share/doc; do ls -la --color=always $d | head -60; sleep 1.5; done; done',
      ],
      'code-terminal',
      undefined,
      true,
    ),
  );
  const sheet = (id: string, source: string, pkg: string, file: string): CaptureSession => ({
    id,
    classId: 'flat',
    subclass: 'spreadsheets',
    source,
    pkg,
    program: file,
    cmd: '/usr/bin/gnumeric',
    args: ['--geometry=854x480+0+0', '--no-splash', file],
    size: [854, 480],
    warmup: 15,
    maxClips: 12,
    driver: { keys: ['Down', 'Down', 'Right', 'Next', 'Next', 'Prior', 'Tab', 'ctrl+Next'], every: [0.4, 2] },
  });
  const xl = '/usr/lib/R/site-library/readxl/extdata';
  sessions.push(
    sheet('sheet-datasets', 'r-cran-readxl:datasets', 'r-cran-readxl', `${xl}/datasets.xlsx`),
    sheet('sheet-deaths', 'r-cran-readxl:deaths', 'r-cran-readxl', `${xl}/deaths.xlsx`),
    sheet('sheet-geometry', 'r-cran-readxl:geometry', 'r-cran-readxl', `${xl}/geometry.xls`),
    sheet('sheet-distro', 'distro-info-data', 'distro-info-data', '/usr/share/distro-info/debian.csv'),
    sheet('sheet-ubuntu', 'distro-info-data', 'distro-info-data', '/usr/share/distro-info/ubuntu.csv'),
    sheet('sheet-gdal-s57', 'gdal-data:s57', 'gdal-data', '/usr/share/gdal/s57attributes.csv'),
    sheet('sheet-gdal-datum', 'gdal-data:datum', 'gdal-data', '/usr/share/gdal/gt_datum.csv'),
    sheet('sheet-zones', 'tzdata', 'tzdata', '/usr/share/zoneinfo/zone1970.tab'),
  );
  const app = (id: string, pkg: string, program: string, args: string[], warmup: number): CaptureSession => ({
    id,
    classId: 'flat',
    subclass: 'application-ui',
    source: pkg,
    pkg,
    program,
    cmd: program,
    args,
    size: [854, 480],
    warmup,
    maxClips: 12,
    driver: { clicks: true, every: [2, 5] },
  });
  sessions.push(
    app('scratch-ide', 'scratch', '/usr/bin/scratch', [], 20),
    app('scummvm-launcher', 'scummvm', '/usr/games/scummvm', ['--gfx-mode=normal'], 8),
  );
  return sessions;
}

// Display numbers unlikely to clash with another build or a person's Xvfb.
let nextDisplay = 100 + (process.pid % 400);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Process groups started here, ended if the build itself is stopped. */
const live = new Set<ChildProcess>();
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    for (const child of live) stop(child);
    process.exit(130);
  });

function stop(child: ChildProcess | undefined): void {
  if (!child || child.exitCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/** A user's uid and gid (`id`); throws if the user does not exist. */
function userIds(user: string): { uid: number; gid: number } {
  const id = (flag: string): number => Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

function chownTree(path: string, { uid, gid }: { uid: number; gid: number }): void {
  chownSync(path, uid, gid);
  for (const e of readdirSync(path, { withFileTypes: true }))
    if (e.isDirectory()) chownTree(join(path, e.name), { uid, gid });
    else chownSync(join(path, e.name), uid, gid);
}

/** Records `seconds` of a session into a near-lossless H.264 file (resumable: kept if present). */
export async function record(session: CaptureSession, seconds: number, outFile: string, work: string, seed: string): Promise<void> {
  if (existsSync(outFile)) return;
  const display = `:${nextDisplay++}`;
  const [w, h] = session.size;
  const home = join(work, 'home', session.id);
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  for (const [name, text] of Object.entries(session.files ?? {})) {
    mkdirSync(dirname(join(home, name)), { recursive: true });
    writeFileSync(join(home, name), text);
  }
  const ids = session.user ? userIds(session.user) : undefined;
  if (ids) chownTree(home, ids);
  const xvfb: ChildProcess = spawn('Xvfb', [display, '-screen', '0', `${w}x${h}x24`, '-nolisten', 'tcp', '+extension', 'GLX'], {
    detached: true,
    stdio: 'ignore',
  });
  live.add(xvfb);
  let program: ChildProcess | undefined;
  let driving = true;
  try {
    await sleep(1500);
    const env = {
      ...process.env,
      DISPLAY: display,
      HOME: home,
      SDL_AUDIODRIVER: 'dummy',
      ALSOFT_DRIVERS: 'null',
      LIBGL_ALWAYS_SOFTWARE: '1',
    };
    program = spawn('nice', ['-n', '10', session.cmd, ...session.args], { detached: true, stdio: 'ignore', env, cwd: home, ...ids });
    live.add(program);
    await sleep(session.warmup * 1000);
    const xdo = (args: string[]): Promise<string> => run('xdotool', args, { env, timeoutMs: 5000 }).catch(() => '');
    for (const k of session.startKeys ?? []) {
      await xdo(['key', k]);
      await sleep(1500);
    }
    for (const [x, y] of session.startClicks ?? []) {
      await xdo(['mousemove', String(x), String(y), 'click', '1']);
      await sleep(1500);
    }
    const rand = seededRandom(seed, `drive:${session.id}:${seconds}`);
    const drive = async (): Promise<void> => {
      const d = session.driver;
      if (!d) return;
      const [lo, hi] = d.every ?? [1, 3];
      while (driving) {
        if (d.keys && d.keys.length > 0) {
          const key = d.keys[Math.floor(rand() * d.keys.length)]!;
          await xdo(['keydown', key]);
          await sleep(100 + rand() * 600);
          await xdo(['keyup', key]);
        }
        if (d.clicks) {
          const [x0, y0, x1, y1] = d.clickArea ?? [0, 0, w, h];
          const x = Math.floor(x0 + rand() * (x1 - x0));
          const y = Math.floor(y0 + rand() * (y1 - y0));
          await xdo(['mousemove', String(x), String(y), 'click', String(d.button ?? 1)]);
        }
        await sleep((lo + rand() * (hi - lo)) * 1000);
      }
    };
    const driverDone = drive();
    const fps = session.fps ?? 15;
    await run(
      'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-f',
        'x11grab',
        '-framerate',
        String(fps),
        '-video_size',
        `${w}x${h}`,
        '-draw_mouse',
        '0',
        '-i',
        `${display}.0`,
        '-t',
        String(seconds),
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-crf',
        '14',
        '-pix_fmt',
        'yuv420p',
        `${outFile}.part.mkv`,
      ],
      { timeoutMs: (seconds + 120) * 1000 },
    );
    driving = false;
    await driverDone;
    await run('mv', [`${outFile}.part.mkv`, outFile]);
  } finally {
    driving = false;
    stop(program);
    stop(xvfb);
    if (program) live.delete(program);
    live.delete(xvfb);
    writeFileSync(join(home, '.done'), '');
  }
}
