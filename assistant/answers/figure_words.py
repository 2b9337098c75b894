"""The word lists behind the figure reader (assistant/answers/figures.py): data a user can read and extend.

`CATEGORY_WORDS` says which words make a casualty figure and of which category;
`PEOPLE` and `NOT_PEOPLE` say whether a number counts people ("26 Palestinians")
or things ("26 cruise missiles"). Add a word to the right list to teach the reader
a new victim noun or weapon; the rules themselves live in figures.py.
"""

from __future__ import annotations

CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "killed": ("kill", "kills", "killed", "killing", "dead", "die", "dies", "died", "dying", "death",
               "deaths", "fatalities", "bodies", "shot dead", "massacred", "executed", "executes",
               "execute", "executing", "death toll", "toll"),
    "injured": ("injure", "injures", "injured", "injuring", "injuries", "wound", "wounds", "wounded",
                "wounding", "hurt"),
    "missing": ("missing",),
    "displaced": ("displace", "displaces", "displaced", "displacing", "fled", "flee", "flees",
                  "fleeing", "homeless"),
    "detained": ("arrest", "arrests", "arrested", "arresting", "detain", "detains", "detained",
                 "detaining", "abduct", "abducts", "abducted", "abducting", "kidnap", "kidnaps",
                 "kidnapped", "kidnapping", "taken hostage", "taken captive", "taken prisoner"),
}
"""Casualty word -> category. Multi-word entries ("shot dead") are matched as phrases."""

PEOPLE = frozenset("""
people persons person civilians civilian children child kids women woman men man girls girl boys boy
babies infants youths youth soldiers soldier troops servicemen personnel fighters fighter militants
militant members officers officer police policemen policewomen guards guardsmen residents villagers
workers journalists reporters medics paramedics doctors nurses staff employees students pupils
worshippers pilgrims protesters protestors demonstrators migrants refugees others individuals victims
passengers crew sailors seafarers prisoners hostages detainees suspects insurgents rebels gunmen
jihadists terrorists commanders leaders relatives peacekeepers farmers fishermen miners herders
bystanders pedestrians mourners shoppers attackers assailants separatists dissidents combatants
contractors activists gangsters operatives recruits conscripts policemen rangers marines fishers
family families inmates teenagers adults elderly minors
""".split())
"""Nouns that name people; a number counting one of these is a candidate figure."""

NOT_PEOPLE = frozenset("""
drone drones uav uavs missile missiles rocket rockets shell shells bomb bombs mortar mortars
projectile projectiles munitions rounds grenade grenades ship ships vessel vessels boat boats tanker
tankers cargo aircraft plane planes jet jets helicopter helicopters tank tanks vehicle vehicles
truck trucks car cars bus buses building buildings home homes house houses village villages town
towns city cities school schools hospital hospitals mosque mosques church churches bridge bridges
km kilometres kilometers kilometre kilometer miles mile metres meters metre meter feet
year years month months week weeks day days hour hours minute minutes night nights
percent per cent % dollars euros pounds tonnes tons barrels points seats votes countries nations states
provinces districts regions sites facilities targets positions attacks strikes airstrikes raids
incidents times cases shahed shaheds cruise ballistic kamikaze glide guided artillery
episodes pages divisions brigades battalions conditions phases extensions tackles
""".split())
"""Nouns that name things; a number counting one of these is never a casualty figure."""
