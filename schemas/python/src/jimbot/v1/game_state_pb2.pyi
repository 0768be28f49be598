from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GameState(_message.Message):
    __slots__ = ("in_game", "game_id", "ante", "round", "hand_number", "chips", "mult", "money", "hand_size", "hands_remaining", "discards_remaining", "score_history", "jokers", "hand", "deck", "consumables", "shop_items", "game_state", "ui_state", "blind", "timestamp", "frame_count", "phase")
    class ScoreHistoryEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ScoreHistoryItem
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ScoreHistoryItem, _Mapping]] = ...) -> None: ...
    class ShopItemsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ShopItem
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ShopItem, _Mapping]] = ...) -> None: ...
    IN_GAME_FIELD_NUMBER: _ClassVar[int]
    GAME_ID_FIELD_NUMBER: _ClassVar[int]
    ANTE_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    HAND_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CHIPS_FIELD_NUMBER: _ClassVar[int]
    MULT_FIELD_NUMBER: _ClassVar[int]
    MONEY_FIELD_NUMBER: _ClassVar[int]
    HAND_SIZE_FIELD_NUMBER: _ClassVar[int]
    HANDS_REMAINING_FIELD_NUMBER: _ClassVar[int]
    DISCARDS_REMAINING_FIELD_NUMBER: _ClassVar[int]
    SCORE_HISTORY_FIELD_NUMBER: _ClassVar[int]
    JOKERS_FIELD_NUMBER: _ClassVar[int]
    HAND_FIELD_NUMBER: _ClassVar[int]
    DECK_FIELD_NUMBER: _ClassVar[int]
    CONSUMABLES_FIELD_NUMBER: _ClassVar[int]
    SHOP_ITEMS_FIELD_NUMBER: _ClassVar[int]
    GAME_STATE_FIELD_NUMBER: _ClassVar[int]
    UI_STATE_FIELD_NUMBER: _ClassVar[int]
    BLIND_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    FRAME_COUNT_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    in_game: bool
    game_id: str
    ante: float
    round: float
    hand_number: float
    chips: float
    mult: float
    money: float
    hand_size: float
    hands_remaining: float
    discards_remaining: float
    score_history: _containers.MessageMap[str, ScoreHistoryItem]
    jokers: _containers.RepeatedCompositeFieldContainer[Joker]
    hand: _containers.RepeatedCompositeFieldContainer[Card]
    deck: Deck
    consumables: _containers.RepeatedCompositeFieldContainer[Consumable]
    shop_items: _containers.MessageMap[str, ShopItem]
    game_state: str
    ui_state: str
    blind: Blind
    timestamp: float
    frame_count: float
    phase: str
    def __init__(self, in_game: _Optional[bool] = ..., game_id: _Optional[str] = ..., ante: _Optional[float] = ..., round: _Optional[float] = ..., hand_number: _Optional[float] = ..., chips: _Optional[float] = ..., mult: _Optional[float] = ..., money: _Optional[float] = ..., hand_size: _Optional[float] = ..., hands_remaining: _Optional[float] = ..., discards_remaining: _Optional[float] = ..., score_history: _Optional[_Mapping[str, ScoreHistoryItem]] = ..., jokers: _Optional[_Iterable[_Union[Joker, _Mapping]]] = ..., hand: _Optional[_Iterable[_Union[Card, _Mapping]]] = ..., deck: _Optional[_Union[Deck, _Mapping]] = ..., consumables: _Optional[_Iterable[_Union[Consumable, _Mapping]]] = ..., shop_items: _Optional[_Mapping[str, ShopItem]] = ..., game_state: _Optional[str] = ..., ui_state: _Optional[str] = ..., blind: _Optional[_Union[Blind, _Mapping]] = ..., timestamp: _Optional[float] = ..., frame_count: _Optional[float] = ..., phase: _Optional[str] = ...) -> None: ...

class ScoreHistoryItem(_message.Message):
    __slots__ = ("label", "amt")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    AMT_FIELD_NUMBER: _ClassVar[int]
    label: str
    amt: float
    def __init__(self, label: _Optional[str] = ..., amt: _Optional[float] = ...) -> None: ...

class Card(_message.Message):
    __slots__ = ("numeric_id", "text_id", "rank", "suit", "enhancement", "edition", "seal", "position")
    NUMERIC_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_ID_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    SUIT_FIELD_NUMBER: _ClassVar[int]
    ENHANCEMENT_FIELD_NUMBER: _ClassVar[int]
    EDITION_FIELD_NUMBER: _ClassVar[int]
    SEAL_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    numeric_id: float
    text_id: str
    rank: str
    suit: str
    enhancement: str
    edition: str
    seal: str
    position: float
    def __init__(self, numeric_id: _Optional[float] = ..., text_id: _Optional[str] = ..., rank: _Optional[str] = ..., suit: _Optional[str] = ..., enhancement: _Optional[str] = ..., edition: _Optional[str] = ..., seal: _Optional[str] = ..., position: _Optional[float] = ...) -> None: ...

class Joker(_message.Message):
    __slots__ = ("numeric_id", "text_id", "name", "position", "properties")
    NUMERIC_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    numeric_id: float
    text_id: str
    name: str
    position: float
    properties: JokerProperties
    def __init__(self, numeric_id: _Optional[float] = ..., text_id: _Optional[str] = ..., name: _Optional[str] = ..., position: _Optional[float] = ..., properties: _Optional[_Union[JokerProperties, _Mapping]] = ...) -> None: ...

class JokerProperties(_message.Message):
    __slots__ = ("mult", "chips", "cost", "sell_value", "edition")
    MULT_FIELD_NUMBER: _ClassVar[int]
    CHIPS_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    SELL_VALUE_FIELD_NUMBER: _ClassVar[int]
    EDITION_FIELD_NUMBER: _ClassVar[int]
    mult: float
    chips: float
    cost: float
    sell_value: float
    edition: str
    def __init__(self, mult: _Optional[float] = ..., chips: _Optional[float] = ..., cost: _Optional[float] = ..., sell_value: _Optional[float] = ..., edition: _Optional[str] = ...) -> None: ...

class Consumable(_message.Message):
    __slots__ = ("numeric_id", "text_id", "name", "card_type", "position", "properties")
    NUMERIC_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CARD_TYPE_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    numeric_id: float
    text_id: str
    name: str
    card_type: str
    position: float
    properties: ConsumableProperties
    def __init__(self, numeric_id: _Optional[float] = ..., text_id: _Optional[str] = ..., name: _Optional[str] = ..., card_type: _Optional[str] = ..., position: _Optional[float] = ..., properties: _Optional[_Union[ConsumableProperties, _Mapping]] = ...) -> None: ...

class ConsumableProperties(_message.Message):
    __slots__ = ("cost", "edition")
    COST_FIELD_NUMBER: _ClassVar[int]
    EDITION_FIELD_NUMBER: _ClassVar[int]
    cost: float
    edition: str
    def __init__(self, cost: _Optional[float] = ..., edition: _Optional[str] = ...) -> None: ...

class Blind(_message.Message):
    __slots__ = ("name", "chips", "chip_text", "mult", "defeated", "boss")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHIPS_FIELD_NUMBER: _ClassVar[int]
    CHIP_TEXT_FIELD_NUMBER: _ClassVar[int]
    MULT_FIELD_NUMBER: _ClassVar[int]
    DEFEATED_FIELD_NUMBER: _ClassVar[int]
    BOSS_FIELD_NUMBER: _ClassVar[int]
    name: str
    chips: float
    chip_text: str
    mult: float
    defeated: bool
    boss: bool
    def __init__(self, name: _Optional[str] = ..., chips: _Optional[float] = ..., chip_text: _Optional[str] = ..., mult: _Optional[float] = ..., defeated: _Optional[bool] = ..., boss: _Optional[bool] = ...) -> None: ...

class Deck(_message.Message):
    __slots__ = ("remaining_count", "cards_remaining", "full_deck")
    REMAINING_COUNT_FIELD_NUMBER: _ClassVar[int]
    CARDS_REMAINING_FIELD_NUMBER: _ClassVar[int]
    FULL_DECK_FIELD_NUMBER: _ClassVar[int]
    remaining_count: float
    cards_remaining: _containers.RepeatedCompositeFieldContainer[Card]
    full_deck: _containers.RepeatedCompositeFieldContainer[Card]
    def __init__(self, remaining_count: _Optional[float] = ..., cards_remaining: _Optional[_Iterable[_Union[Card, _Mapping]]] = ..., full_deck: _Optional[_Iterable[_Union[Card, _Mapping]]] = ...) -> None: ...

class ShopItem(_message.Message):
    __slots__ = ("name", "cost", "rarity_number", "rarity_text")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    RARITY_NUMBER_FIELD_NUMBER: _ClassVar[int]
    RARITY_TEXT_FIELD_NUMBER: _ClassVar[int]
    name: str
    cost: float
    rarity_number: float
    rarity_text: str
    def __init__(self, name: _Optional[str] = ..., cost: _Optional[float] = ..., rarity_number: _Optional[float] = ..., rarity_text: _Optional[str] = ...) -> None: ...
