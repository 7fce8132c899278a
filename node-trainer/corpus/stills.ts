/**
 * Still pictures shipped in Debian packages, each with the class and subclass a person gave it
 * after looking at it. Abstract wallpapers and icons are left out on purpose: a file that is not
 * listed here is not in the corpus.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** One labelled picture inside an installed package. */
export interface Still {
  file: string;
  pkg: string;
  classId: 'animation' | 'gaming' | 'natural' | 'flat';
  subclass: string;
  /** The independent group that must stay inside one split. */
  source: string;
}

type Table = Record<string, string>;

function fromTable(pkg: string, source: string, classId: Still['classId'], dir: string, table: Table): Still[] {
  return Object.entries(table)
    .map(([name, subclass]) => ({ file: join(dir, name), pkg, classId, subclass, source }))
    .filter((s) => existsSync(s.file));
}

const BG = '/usr/share/backgrounds';
const WALL = '/usr/share/wallpapers';
const SCRATCH = '/usr/share/scratch/Media/Backgrounds';

/** The largest picture of a KDE wallpaper folder. */
function plasma(name: string): string {
  const dir = join(WALL, name, 'contents/images');
  if (!existsSync(dir)) return join(dir, 'missing');
  const sizes = readdirSync(dir)
    .map((f) => ({
      f,
      px: f
        .split(/[x.]/)
        .slice(0, 2)
        .map(Number)
        .reduce((a, b) => a * b, 1),
    }))
    .sort((a, b) => b.px - a.px);
  return join(dir, sizes[0]?.f ?? 'missing');
}

/** Every labelled still, in a fixed order. */
export function allStills(): Still[] {
  const out: Still[] = [];
  // Photographs (natural).
  out.push(
    ...fromTable('lomiri-wallpapers-16.04', 'lomiri-wallpapers-16.04', 'natural', BG, {
      'Bridge_by_Sander_Klootwijk.jpg': 'sky-and-water',
      'Dragonfly_by_Bolly.jpg': 'close-up',
      'Picture_0B_by_freespace.jpg': 'close-up',
      'Picture_1A_by_freespace.jpg': 'close-up',
      'Wine_by_Jakkub_Mede.jpg': 'close-up',
      'aitzgorri_by_Aitzol_Berasategi.jpg': 'landscape',
      'free_by_Peter_Nerlich.jpg': 'close-up',
      'friends_by_Aitzol_Berasategi.jpg': 'close-up',
      'greentock_by_Peter_Nerlich.jpg': 'close-up',
      'life_by_Aitzol_Berasategi.jpg': 'landscape',
      'picosdeeuropa_by_Aitzol_Berasategi.jpg': 'landscape',
      'seeding_by_Clements_Engelhardt.jpg': 'close-up',
      'sunset_by_Aitzol_Berasategi.jpg': 'sky-and-water',
    }),
    ...fromTable('lomiri-wallpapers-20.04', 'lomiri-wallpapers-20.04', 'natural', BG, {
      'Kleiber_by_Lukas_Baubkus.jpg': 'close-up',
    }),
  );
  const plasmaPhotos: Table = {
    BytheWater: 'sky-and-water',
    ColdRipple: 'sky-and-water',
    EveningGlow: 'sky-and-water',
    FallenLeaf: 'close-up',
    Grey: 'urban',
    Kite: 'sky-and-water',
    OneStandsOut: 'close-up',
    Path: 'landscape',
    summer_1am: 'sky-and-water',
    ColorfulCups: 'close-up',
    DarkestHour: 'sky-and-water',
  };
  for (const [name, subclass] of Object.entries(plasmaPhotos)) {
    const file = plasma(name);
    if (existsSync(file))
      out.push({ file, pkg: 'plasma-workspace-wallpapers', classId: 'natural', subclass, source: 'plasma-workspace-wallpapers' });
  }
  out.push(
    ...fromTable('tuxpaint-data', 'tuxpaint-data', 'natural', '/usr/share/tuxpaint/templates', {
      'burnt_bark.jpg': 'close-up',
      'cliff.jpg': 'landscape',
      'corn_maze.jpg': 'close-up',
      'jellyfish.jpg': 'close-up',
      'lighthouse.jpg': 'urban',
      'mossy_bark.jpg': 'close-up',
      'mossy_log.jpg': 'close-up',
      'mudstone.jpg': 'close-up',
      'ocean_splash.jpg': 'sky-and-water',
      'ocean_waves.jpg': 'sky-and-water',
      'redwoods_above.jpg': 'landscape',
      'rocks.jpg': 'close-up',
      'sheep.jpg': 'landscape',
      'spiders_web.jpg': 'close-up',
      'sun_behind_clouds.jpg': 'sky-and-water',
      'sun_behind_leaves.jpg': 'close-up',
      'trees_above.jpg': 'landscape',
      'trees_at_dusk.jpg': 'landscape',
      'wool_mill_machine.jpg': 'close-up',
    }),
    ...fromTable('scratch', 'scratch', 'natural', SCRATCH, {
      'Indoors/clothing-store.jpg': 'urban',
      'Indoors/hall.jpg': 'urban',
      'Indoors/kitchen.jpg': 'urban',
      'Indoors/the-movies-inside.jpg': 'urban',
      'Nature/beach-malibu.jpg': 'sky-and-water',
      'Nature/canyon.jpg': 'landscape',
      'Nature/flower-bed.jpg': 'close-up',
      'Nature/flowers.gif': 'close-up',
      'Nature/forest.jpg': 'landscape',
      'Nature/garden-rock.jpg': 'landscape',
      'Nature/grand-canyon.jpg': 'landscape',
      'Nature/gravel-desert.jpg': 'landscape',
      'Nature/hill.jpg': 'landscape',
      'Nature/lake.jpg': 'landscape',
      'Nature/moon.jpg': 'landscape',
      'Nature/pathway.jpg': 'landscape',
      'Nature/tree.jpg': 'close-up',
      'Nature/water-and-rocks.jpg': 'sky-and-water',
      'Nature/wave.jpg': 'sky-and-water',
      'Outdoors/all-sports-mural.jpg': 'urban',
      'Outdoors/atom-playground.jpg': 'urban',
      'Outdoors/bench-with-view.jpg': 'landscape',
      'Outdoors/berkeley-mural.jpg': 'urban',
      'Outdoors/boardwalk.jpg': 'sky-and-water',
      'Outdoors/brick-wall-and-stairs.jpg': 'urban',
      'Outdoors/brick-wall1.jpg': 'urban',
      'Outdoors/building-at-mit.jpg': 'urban',
      'Outdoors/building-fireproof.jpg': 'urban',
      'Outdoors/castle.jpg': 'urban',
      'Outdoors/city-with-water.jpg': 'urban',
      'Outdoors/city-with-water2.jpg': 'urban',
      'Outdoors/driveway.jpg': 'urban',
      'Outdoors/graffiti.jpg': 'urban',
      'Outdoors/hallway_outdoors.jpg': 'urban',
      'Outdoors/hay_field.jpg': 'landscape',
      'Outdoors/houses.jpg': 'urban',
      'Outdoors/mansion.jpg': 'urban',
      'Outdoors/mural-faro.jpg': 'urban',
      'Outdoors/parking-ramp.jpg': 'urban',
      'Outdoors/pool.jpg': 'urban',
      'Outdoors/route66.jpg': 'urban',
      'Outdoors/silos.jpg': 'urban',
      'Outdoors/the-movies.jpg': 'urban',
      'Outdoors/train-tracks1.jpg': 'landscape',
      'Outdoors/train-tracks2.jpg': 'landscape',
      'Outdoors/village.jpg': 'urban',
      'Outdoors/wooden-house.jpg': 'urban',
      'Sports/baseball-field.jpg': 'urban',
      'Sports/basketball-court1-a.jpg': 'urban',
      'Sports/football-field.jpg': 'urban',
      'Sports/playing-field.jpg': 'landscape',
      'Sports/tennis-backboard.jpg': 'urban',
    }),
    ...fromTable('palapeli-data', 'palapeli-data', 'natural', '/usr/share/palapeli/collection', {
      'castle-maintenon.jpg': 'urban',
      'cincinnati-bridge.jpg': 'urban',
      'citrus-fruits.jpg': 'close-up',
      'european-honey-bee.jpg': 'close-up',
      'panther-chameleon-female.jpg': 'close-up',
    }),
    // Tux Typing's level backgrounds (the kcas* photographs; the numbered backgrounds are telescope
    // images and are left out).
    ...fromTable('tuxtype-data', 'tuxtype-data', 'natural', '/usr/share/tuxtype/images', {
      'kcas0.jpg': 'sky-and-water',
      'kcas1.jpg': 'sky-and-water',
      'kcas2.jpg': 'landscape',
      'kcas3.jpg': 'landscape',
      'kcas4.jpg': 'landscape',
      'kcas5.jpg': 'sky-and-water',
      'kcas6.jpg': 'landscape',
      'kcas7.jpg': 'landscape',
      'kcas8.jpg': 'landscape',
      'kcas9.jpg': 'landscape',
      'kcas10.jpg': 'landscape',
      'kcas11.jpg': 'landscape',
    }),
    // LXQt's photographic wallpapers (the logo and origami ones are not photographs).
    ...fromTable('lxqt-themes', 'lxqt-themes', 'natural', '/usr/share/lxqt/wallpapers', {
      'Butterfly-Kenneth-Wimer.jpg': 'close-up',
      'Valendas.png': 'landscape',
      'after-the-rain.jpg': 'sky-and-water',
      'appleflower.png': 'close-up',
      'beam.png': 'sky-and-water',
      'butterfly.png': 'close-up',
      'cloud.png': 'sky-and-water',
      'drop.png': 'close-up',
      'flowers.png': 'close-up',
      'fog.jpg': 'landscape',
      'this-is-not-windows.jpg': 'landscape',
    }),
    // Kalzium's photographs of laboratory tools (small, 285-430 px wide); the very tall or very
    // wide ones (pipettes, thermometers, tubes) are left out.
    ...fromTable('kalzium-data', 'kalzium-data', 'natural', '/usr/share/kalzium/data/toolpics', {
      'brechungsmesser.jpg': 'close-up',
      'dsc.jpg': 'close-up',
      'exikator.jpg': 'close-up',
      'halter.jpg': 'close-up',
      'hplc.jpg': 'close-up',
      'moerser.jpg': 'close-up',
      'phpapier.jpg': 'close-up',
      'rg-halter.jpg': 'close-up',
      'rg-staender.jpg': 'close-up',
      'rotationsverdampfer.jpg': 'close-up',
      'ruehrfisch.jpg': 'close-up',
      'schutzbrille.jpg': 'close-up',
      'tonschale.jpg': 'close-up',
      'trichter.jpg': 'close-up',
      'trockenrohr.jpg': 'close-up',
      'waage.jpg': 'close-up',
    }),
    // KPhotoAlbum's demo album: snapshots of people, pets and trips (qt-logo.jpg is a photograph
    // of three people with Qt tattoos). The four stored sideways or upside down, which the album
    // turns by an angle in demo/index.xml (grand_canyon_1, new_wave_1, pool_2, wayne), are left out.
    ...fromTable('kphotoalbum', 'kphotoalbum', 'natural', '/usr/share/kphotoalbum/demo', {
      'anne_helene.jpg': 'close-up',
      'bar55.jpg': 'urban',
      'bar55_2.jpg': 'urban',
      'blackie.jpg': 'close-up',
      'cold_water.jpg': 'sky-and-water',
      'donna.jpg': 'landscape',
      'donna_2.jpg': 'close-up',
      'grand_canyon_2.jpg': 'landscape',
      'grand_canyon_3.jpg': 'landscape',
      'jesper.jpg': 'close-up',
      'jesper_2.jpg': 'close-up',
      'new_wave_2.jpg': 'close-up',
      'pool.jpg': 'urban',
      'qt-logo.jpg': 'close-up',
      'skagen.jpg': 'sky-and-water',
      'skagen_2.jpg': 'sky-and-water',
      'snow.jpg': 'urban',
      'spiff.jpg': 'close-up',
      'spiff_2.jpg': 'close-up',
      'sunset.jpg': 'sky-and-water',
    }),
  );
  // Drawn pictures (animation).
  out.push(
    ...fromTable('scratch', 'scratch', 'animation', SCRATCH, {
      'Indoors/bedroom1.gif': 'cartoon-2d',
      'Indoors/bedroom2.gif': 'cartoon-2d',
      'Indoors/party-room.jpg': 'cartoon-2d',
      'Indoors/room1.jpg': 'cartoon-2d',
      'Indoors/room2.jpg': 'cartoon-2d',
      'Indoors/room3.jpg': 'cartoon-2d',
      'Indoors/spotlight-stage.jpg': 'cartoon-2d',
      'Nature/desert.gif': 'cartoon-2d',
      'Nature/underwater.gif': 'cartoon-2d',
      'Nature/woods.gif': 'cartoon-2d',
      'Outdoors/night-city-with-street.gif': 'cartoon-2d',
      'Outdoors/night-city.gif': 'cartoon-2d',
      'Outdoors/school1.gif': 'cartoon-2d',
      'Outdoors/school2.jpg': 'cartoon-2d',
      'Outdoors/train-tracks3.gif': 'cartoon-2d',
      'Sports/basketball-court2.png': 'cartoon-2d',
    }),
    ...fromTable('wesnoth-1.16-data', 'wesnoth-1.16-data', 'animation', '/usr/share/games/wesnoth/1.16/data/core/images/story', {
      'grim-altar.jpg': 'illustrated-story',
      'landscape-battlefield.jpg': 'illustrated-story',
      'landscape-bridge.jpg': 'illustrated-story',
      'landscape-bridge_sun.jpg': 'illustrated-story',
      'landscape-castle.jpg': 'illustrated-story',
      'landscape-coast.jpg': 'illustrated-story',
      'landscape-hills-01.jpg': 'illustrated-story',
      'landscape-hills-02.jpg': 'illustrated-story',
      'landscape-mountains-01.jpg': 'illustrated-story',
      'landscape-mountains-02.jpg': 'illustrated-story',
      'landscape-mountains-03.jpg': 'illustrated-story',
      'landscape-mountains-04.jpg': 'illustrated-story',
      'landscape-mountains-05.jpg': 'illustrated-story',
      'landscape-plain.jpg': 'illustrated-story',
      'swamp-01.jpg': 'illustrated-story',
      'swamp-02.jpg': 'illustrated-story',
      'swamp-03.jpg': 'illustrated-story',
    }),
    ...fromTable('pingus-data', 'pingus-data', 'animation', '/usr/share/games/pingus/data/images/story', {
      'story0.png': 'illustrated-story',
      'story1.png': 'illustrated-story',
      'story2.png': 'illustrated-story',
      'story3.png': 'illustrated-story',
      'story4.png': 'illustrated-story',
      'story5.png': 'illustrated-story',
      'story6.png': 'illustrated-story',
    }),
  );
  // Abstract designer wallpapers: the look of motion-graphics backgrounds and title cards.
  for (const name of [
    'Altai',
    'Cascade',
    'Cluster',
    'Elarun',
    'Flow',
    'Honeywave',
    'IceCold',
    'Kay',
    'Kokkini',
    'MilkyWay',
    'Opal',
    'Patak',
    'Shell',
    'Volna',
    'PastelHills',
  ]) {
    const file = plasma(name);
    if (existsSync(file))
      out.push({
        file,
        pkg: 'plasma-workspace-wallpapers',
        classId: 'animation',
        subclass: 'motion-graphics',
        source: 'plasma-workspace-wallpapers',
      });
  }
  out.push(
    ...fromTable('lomiri-wallpapers-20.04', 'lomiri-wallpapers-20.04', 'animation', BG, {
      'Fossa_by_Jasper_Roks.jpg': 'motion-graphics',
      'Infinite-Sea_by_Aury88.jpg': 'motion-graphics',
      'Painting-Colors_by__herobrine7gamer.jpg': 'motion-graphics',
    }),
    ...fromTable('ukui-wallpapers', 'ukui-wallpapers', 'animation', BG, {
      '2004default.jpg': 'motion-graphics',
      'calla.png': 'cartoon-2d',
      'city.png': 'motion-graphics',
      'desert.png': 'motion-graphics',
      'firstgeneration.jpg': 'cartoon-2d',
      'fluent-color.png': 'motion-graphics',
      'goldfish.png': 'cartoon-2d',
      'rhythm.jpg': 'motion-graphics',
      'rollpaper.png': 'motion-graphics',
      'string.jpg': 'motion-graphics',
      'the-mouse.jpg': 'cartoon-2d',
    }),
    ...fromTable('gnome-backgrounds', 'gnome-backgrounds', 'animation', join(BG, 'gnome'), {
      'blobs-d.svg': 'motion-graphics',
      'drool-l.svg': 'motion-graphics',
      'dune-d.svg': 'motion-graphics',
      'field-l.svg': 'motion-graphics',
      'oceans.svg': 'motion-graphics',
      'truchet-d.webp': 'motion-graphics',
      'pixels-l.webp': 'motion-graphics',
      'licorice-d.webp': 'motion-graphics',
    }),
  );
  const konqui = plasma('FlyingKonqui');
  if (existsSync(konqui))
    out.push({
      file: konqui,
      pkg: 'plasma-workspace-wallpapers',
      classId: 'animation',
      subclass: 'cartoon-2d',
      source: 'plasma-workspace-wallpapers',
    });
  const landing = plasma('SafeLanding');
  if (existsSync(landing))
    out.push({
      file: landing,
      pkg: 'plasma-workspace-wallpapers',
      classId: 'animation',
      subclass: 'cartoon-2d',
      source: 'plasma-workspace-wallpapers',
    });
  return out;
}
