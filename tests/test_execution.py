"""The execution context reads plain fields directly (scalars, and objects whose selection
is all plain), and answers exactly as the generic path does: values, nulls, errors and
their paths, middleware."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Annotated, Any

import strawberry
from graphql import GraphQLResolveInfo
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.schema.config import StrawberryConfig

from graph.schema.chained import Chained, then
from graph.schema.completion import _PLAIN_OBJECTS, _plain_object
from graph.schema.execution import CycleFreeExecutionContext
from graph.schema.scalars import SCALARS, BigInt


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Item(Named):
    note: str | None
    size: int
    flag: bool

    @strawberry.field
    def loud(self) -> str:
        return self.name.upper()

    @strawberry.field
    def echo(self, info: strawberry.Info) -> str:
        return f"{info.field_name} {self.name}"

    @strawberry.field(description="Awaitable for even sizes.", graphql_type=int)
    def later(self) -> int | Awaitable[int]:
        # A plain method may hand back an awaitable: it is awaited, then completed.
        return self.size if self.size % 2 else self._later()

    async def _later(self) -> int:
        if self.note is None:
            raise ValueError("no note")
        return self.size * 10


def _items() -> list[Item]:
    return [Item(name=f"i{n}", note=None if n % 2 else "x", size=n, flag=n > 1) for n in range(4)]


@strawberry.type
class Box:
    item: Item
    spare: Item | None

    @strawberry.field
    def biggest(self) -> Item:
        return _items()[-1]


def _boxes() -> list[Box]:
    return [Box(item=item, spare=None if item.size % 2 else item) for item in _items()]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return _items()

    @strawberry.field
    def boxes(self) -> list[Box]:
        return _boxes()

    @strawberry.field
    def wrong_box(self) -> list[Box]:
        box = _boxes()[0]
        box.item = box  # type: ignore[assignment]  # not an Item
        return [box]

    @strawberry.field
    def gappy(self) -> list[Item]:
        return [_items()[0], None]  # type: ignore[list-item]  # null where never

    @strawberry.field
    def holes(self) -> list[Item | None]:
        return [_items()[0], None]

    @strawberry.field
    def broken_box(self) -> list[Box]:
        box = _boxes()[0]
        box.item.name = None  # type: ignore[assignment]
        return [box]

    @strawberry.field
    def broken(self) -> list[Item]:
        item = _items()[0]
        item.name = None  # type: ignore[assignment]  # a null where the schema says never
        return [item]

    @strawberry.field
    def bad_size(self) -> list[Item]:
        item = _items()[0]
        item.size = "many"  # type: ignore[assignment]  # the Int serializer refuses it
        return [item]


QUERY = "{ items { name note size flag loud echo } }"


def _schema(*extensions: Any) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        extensions=list(extensions),
        execution_context_class=CycleFreeExecutionContext,
    )


class Counting(CycleFreeExecutionContext):
    """Counts the fields that took the generic path (each builds a resolve info)."""

    infos = 0

    def build_resolve_info(self, *args: Any, **kwargs: Any) -> GraphQLResolveInfo[Any]:
        Counting.infos += 1
        return super().build_resolve_info(*args, **kwargs)


async def test_plain_fields_answer_as_the_generic_path() -> None:
    plain = await _schema().execute(QUERY)
    generic = await strawberry.Schema(query=Query).execute(QUERY)
    assert plain.errors is None
    assert plain.data == generic.data
    assert plain.data == {
        "items": [
            {
                "name": f"i{n}",
                "note": None if n % 2 else "x",
                "size": n,
                "flag": n > 1,
                "loud": f"I{n}",
                "echo": f"echo i{n}",
            }
            for n in range(4)
        ]
    }


async def test_plain_fields_build_no_resolve_info() -> None:
    schema = strawberry.Schema(query=Query, execution_context_class=Counting)
    Counting.infos = 0
    result = await schema.execute(QUERY)
    assert result.errors is None
    # `items`, and `echo` of each item (it takes info): the four attributes of each item
    # and `loud` (a method taking nothing) cost none.
    assert Counting.infos == 1 + 4


async def test_plain_objects_answer_as_the_generic_path_and_build_no_resolve_info() -> None:
    query = "{ boxes { item { name size loud } spare { name note } biggest { size } } }"
    schema = strawberry.Schema(query=Query, execution_context_class=Counting)
    Counting.infos = 0
    plain = await schema.execute(query)
    generic = await strawberry.Schema(query=Query).execute(query)
    assert plain.errors is None
    assert plain.data == generic.data
    assert plain.data is not None and plain.data["boxes"][1]["spare"] is None
    assert Counting.infos == 0  # `boxes` too: a method taking nothing


async def test_a_list_of_plain_objects_keeps_its_nulls() -> None:
    plain = await _schema().execute("{ holes { name } }")
    assert plain.errors is None
    assert plain.data == {"holes": [{"name": "i0"}, None]}


async def test_an_object_with_a_field_that_is_not_plain_takes_the_generic_path() -> None:
    for query in ("{ boxes { item { name echo } } }", "{ boxes { item { size later } } }"):
        plain = await _schema().execute(query)
        generic = await strawberry.Schema(query=Query).execute(query)
        assert plain.data == generic.data
        assert [(e.message, e.path) for e in plain.errors or []] == [
            (e.message, e.path) for e in generic.errors or []
        ]


async def test_a_wrong_value_is_the_same_error_at_the_same_path() -> None:
    for field, message in (
        ("broken { name }", "Cannot return null for non-nullable field Item.name."),
        ("badSize { size }", "Int cannot represent non-integer value: 'many'"),
        ("brokenBox { item { name } }", "Cannot return null for non-nullable field Item.name."),
        ("wrongBox { item { name } }", "Expected value of type 'Item' but got: <Box instance>."),
        ("gappy { name }", "Cannot return null for non-nullable field Query.gappy."),
    ):
        plain = await _schema().execute(f"{{ {field} }}")
        generic = await strawberry.Schema(query=Query).execute(f"{{ {field} }}")
        assert plain.data == generic.data
        assert plain.errors is not None and generic.errors is not None
        assert [(e.message, e.path) for e in plain.errors] == [
            (e.message, e.path) for e in generic.errors
        ]
        assert plain.errors[0].message == message


async def test_a_middleware_still_sees_every_field() -> None:
    seen: list[str] = []

    class Seeing(SchemaExtension):
        def resolve(
            self,
            _next: Callable[..., Any],
            root: Any,
            info: GraphQLResolveInfo[Any],
            *args: str,
            **kwargs: Any,
        ) -> Any:
            seen.append(info.field_name)
            return _next(root, info, *args, **kwargs)

    result = await _schema(Seeing).execute("{ items { name size } }")
    assert result.errors is None
    assert seen.count("name") == seen.count("size") == 4


async def test_an_awaitable_from_a_plain_method_is_awaited_and_its_error_reported() -> None:
    query = "{ items { size later } }"
    plain = await _schema().execute(query)
    generic = await strawberry.Schema(query=Query).execute(query)
    assert plain.data == generic.data
    assert plain.data is not None
    assert [i["later"] for i in plain.data["items"]] == [0, 1, 20, 3]
    assert plain.errors is None


async def test_an_awaitable_that_fails_is_the_same_error_at_the_same_path() -> None:
    @strawberry.type
    class Failing:
        @strawberry.field
        def items(self) -> list[Item]:
            return [Item(name="a", note=None, size=2, flag=True)]

    query = "{ items { later } }"
    plain = await strawberry.Schema(
        query=Failing, execution_context_class=CycleFreeExecutionContext
    ).execute(query)
    generic = await strawberry.Schema(query=Failing).execute(query)
    assert plain.data == generic.data
    assert plain.errors is not None and generic.errors is not None
    assert [(e.message, e.path) for e in plain.errors] == [
        (e.message, e.path) for e in generic.errors
    ]
    assert plain.errors[0].path == ["items", 0, "later"]


@strawberry.enum
class Size(Enum):
    SMALL = "small"
    LARGE = "large"


@strawberry.type
class Shelf:
    """Fields a plan covers beyond attributes: arguments, async methods, enums, lists."""

    size: int
    loads: strawberry.Private[list[int]]

    @strawberry.field
    def items(self, first: int = 2, prefix: str = "i") -> list[Item]:
        if first < 0:
            raise ValueError("first must not be negative")
        return [
            Item(name=f"{prefix}{n}", note="x", size=n, flag=False)
            for n in range(self.size, self.size + first)
        ]

    @strawberry.field
    async def later_items(self, first: int = 1) -> list[Item]:
        await asyncio.sleep(0)
        self.loads.append(self.size)
        if self.size < 0:
            raise ValueError("no items")
        return [Item(name=f"l{self.size}", note=None, size=1, flag=True)] * first

    @strawberry.field
    def kind(self) -> Size:
        return Size.SMALL if self.size < 2 else Size.LARGE

    @strawberry.field
    def tags(self) -> list[str | None]:
        return ["a", None]

    @strawberry.field
    def picked(self, names: list[str]) -> list[str]:
        return [name for name in names if name]

    @strawberry.field(graphql_type=list[Item])
    def chained(self) -> Awaitable[list[Item]]:
        # As a connection hands out its page: a transform of a future set later.
        future = asyncio.get_running_loop().create_future()
        if self.size < 0:
            asyncio.get_running_loop().call_soon(future.set_exception, ValueError("no page"))
        else:
            asyncio.get_running_loop().call_soon(future.set_result, self.size)
        return then(future, lambda n: [Item(name=f"c{n}", note=None, size=n, flag=True)])


def _shelves(*sizes: int) -> list[Shelf]:
    loads: list[int] = []
    return [Shelf(size=size, loads=loads) for size in sizes]


@strawberry.type
class ShelfQuery:
    @strawberry.field
    def shelves(self) -> list[Shelf]:
        return _shelves(0, 1, 2)

    @strawberry.field
    def broken_shelves(self) -> list[Shelf]:
        return _shelves(0, -1, 2)


async def _both(query: str, variables: dict[str, Any] | None = None) -> Any:
    """The planned answer, checked equal (data, errors, paths) to the generic one."""
    plain = await strawberry.Schema(
        query=ShelfQuery, execution_context_class=CycleFreeExecutionContext
    ).execute(query, variable_values=variables)
    generic = await strawberry.Schema(query=ShelfQuery).execute(query, variable_values=variables)
    assert plain.data == generic.data
    assert [(e.message, e.path) for e in plain.errors or []] == [
        (e.message, e.path) for e in generic.errors or []
    ]
    return plain


async def test_fields_with_arguments_async_methods_enums_and_lists_are_planned() -> None:
    query = """query($n: Int!) { shelves { size kind tags items(first: $n, prefix: "x") {
      name } laterItems(first: 2) { name size } } }"""
    schema = strawberry.Schema(query=ShelfQuery, execution_context_class=Counting)
    Counting.infos = 0
    result = await schema.execute(query, variable_values={"n": 1})
    assert result.errors is None
    assert Counting.infos == 0
    planned = await _both(query, {"n": 1})
    assert planned.data == result.data
    assert result.data is not None
    first = result.data["shelves"][2]
    assert first == {
        "size": 2,
        "kind": "LARGE",
        "tags": ["a", None],
        "items": [{"name": "x2"}],
        "laterItems": [{"name": "l2", "size": 1}] * 2,
    }


async def test_a_mutable_argument_takes_the_generic_path() -> None:
    # The converted arguments are shared by every object of a selection: a list is not.
    query = '{ shelves { picked(names: ["a", ""]) } }'
    schema = strawberry.Schema(query=ShelfQuery, execution_context_class=Counting)
    Counting.infos = 0
    result = await schema.execute(query)
    assert result.errors is None
    assert Counting.infos == 1 + 3  # `shelves`, then `picked` on each shelf
    await _both(query)


async def test_an_argument_the_resolver_refuses_is_the_same_error_at_the_same_path() -> None:
    result = await _both("{ shelves { size items(first: -1) { name } } }")
    assert result.errors is not None
    assert result.errors[0].path == ["shelves", 0, "items"]


async def test_a_failing_awaitable_of_a_list_item_is_the_same_error_at_the_same_path() -> None:
    result = await _both("{ brokenShelves { size laterItems { name } } }")
    assert result.errors is not None
    assert result.errors[0].message == "no items"
    assert result.errors[0].path == ["brokenShelves", 1, "laterItems"]


async def test_a_bad_variable_is_reported_as_before() -> None:
    result = await _both("query($n: Int) { shelves { items(first: $n) { name } } }", {"n": None})
    assert result.errors is not None


class Planning(CycleFreeExecutionContext):
    """Counts the plans made (not found from an earlier request)."""

    made = 0

    def _make_plan(self, *args: Any) -> Any:
        Planning.made += 1
        return super()._make_plan(*args)


async def test_a_document_is_planned_once_per_variables() -> None:
    # The parser cache hands out the same document for the same text.
    schema = strawberry.Schema(
        query=ShelfQuery, extensions=[ParserCache], execution_context_class=Planning
    )
    query = """query($n: Int!, $big: Boolean!) { shelves { size @skip(if: $big) kind
      items(first: $n) { name } } }"""
    answers = []
    for n, big in ((1, False), (1, False), (2, False), (1, True), (1, False)):
        Planning.made = 0
        result = await schema.execute(query, variable_values={"n": n, "big": big})
        assert result.errors is None
        answers.append((Planning.made, result.data))
    # Plans are made for the first request, then found again; other variables make
    # their own (an argument, a skipped field), and each answer is its own.
    assert [made for made, _ in answers] == [5, 0, 5, 4, 0]
    assert answers[1][1] == answers[0][1] == answers[4][1]
    assert answers[2][1] is not None and len(answers[2][1]["shelves"][0]["items"]) == 2
    assert answers[3][1] is not None and "size" not in answers[3][1]["shelves"][0]


@strawberry.type
class Crate(Item):
    """An Item's subclass: an instance of two of a union's types (the generic path)."""


Thing = Annotated[Item | Box, strawberry.union("Thing")]
Anything = Annotated[Item | Box | Crate, strawberry.union("Anything")]


@strawberry.type
class UnionQuery:
    @strawberry.field
    def things(self) -> list[Thing]:
        return [*_items()[:2], *_boxes()[:2]]

    @strawberry.field
    def named(self) -> list[Named]:
        return list[Named](_items()[:3])

    @strawberry.field
    def anything(self) -> list[Anything]:
        return [_items()[0], Crate(name="c", note=None, size=9, flag=True)]

    @strawberry.field
    def cast(self) -> list[Thing]:
        return [strawberry.cast(Box, _items()[0])]


async def test_unions_and_interfaces_answer_as_the_generic_path() -> None:
    for query in (
        "{ things { ... on Item { name size } ... on Box { item { name } spare { note } } } }",
        "{ named { name ... on Item { loud } } }",
        "{ anything { ... on Item { name } ... on Crate { size } } }",
        "{ cast { ... on Box { item { name } } ... on Item { name } } }",
        "{ things { __typename ... on Item { name } } }",
    ):
        plain = await strawberry.Schema(
            query=UnionQuery,
            types=[Item, Box, Crate],
            execution_context_class=CycleFreeExecutionContext,
        ).execute(query)
        generic = await strawberry.Schema(query=UnionQuery, types=[Item, Box, Crate]).execute(query)
        assert plain.data == generic.data, query
        assert [(e.message, e.path) for e in plain.errors or []] == [
            (e.message, e.path) for e in generic.errors or []
        ], query


async def test_a_union_of_plain_objects_builds_no_resolve_info() -> None:
    schema = strawberry.Schema(
        query=UnionQuery, types=[Item, Box, Crate], execution_context_class=Counting
    )
    Counting.infos = 0
    result = await schema.execute(
        "{ things { ... on Item { name } ... on Box { item { size } } } named { name } }"
    )
    assert result.errors is None
    assert Counting.infos == 0


async def test_a_chained_value_answers_as_the_generic_path() -> None:
    plain = await _both("{ shelves { size chained { name size } } }")
    assert plain.data["shelves"][2]["chained"] == [{"name": "c2", "size": 2}]
    failed = await _both("{ brokenShelves { chained { name } } }")
    assert [e.path for e in failed.errors] == [["brokenShelves", 1, "chained"]]


async def test_a_chained_value_is_made_once_however_often_it_is_read() -> None:
    made: list[int] = []

    def make(n: int) -> int:
        made.append(n)
        return n

    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    page = then(future, make)
    first, second = page.then(str), page.then(lambda n: n * 2)
    assert isinstance(first, Chained) and not first.done()
    future.set_result(21)
    assert (await first, await second, page.result()) == ("21", 42, 21)
    assert made == [21]


@strawberry.type
class Counts:
    small: int
    big: BigInt


@strawberry.type
class CountsQuery:
    @strawberry.field
    def counts(self) -> list[Counts]:
        values = [0, -1, 2**31 - 1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63 - 1, True]
        return [Counts(small=0, big=BigInt(value)) for value in values]

    @strawberry.field
    def too_big(self) -> list[Counts]:
        return [Counts(small=2**31, big=BigInt(1))]


async def test_an_int_of_any_size_where_a_big_int_goes_and_of_32_bits_where_an_int_goes() -> None:
    def schema(context: type[Any] | None) -> strawberry.Schema:
        return strawberry.Schema(
            query=CountsQuery,
            config=StrawberryConfig(scalar_map=SCALARS),
            execution_context_class=context,
        )

    for query in ("{ counts { small big } }", "{ tooBig { small big } }"):
        plain = await schema(CycleFreeExecutionContext).execute(query)
        generic = await schema(None).execute(query)
        assert plain.data == generic.data
        assert [(e.message, e.path) for e in plain.errors or []] == [
            (e.message, e.path) for e in generic.errors or []
        ]
    plain = await schema(CycleFreeExecutionContext).execute("{ counts { big } }")
    assert plain.data is not None
    assert [c["big"] for c in plain.data["counts"]] == [
        0,
        -1,
        2**31 - 1,
        2**31,
        -(2**31) - 1,
        2**53 + 1,
        2**63 - 1,
        1,
    ]
    refused = await schema(CycleFreeExecutionContext).execute("{ tooBig { small } }")
    assert [e.message for e in refused.errors or []] == [
        "Int cannot represent non 32-bit signed integer value: 2147483648"
    ]


def test_only_object_types_without_an_await_are_known_never_awaitable() -> None:
    # Completion skips strawberry's awaitable test for these classes' instances.
    @strawberry.type
    class Plain:
        x: int

    @strawberry.type
    class Awaits:
        x: int

        def __await__(self) -> Any:
            yield

    class NotAType:
        pass

    assert _plain_object(Plain) and _PLAIN_OBJECTS[Plain]
    assert not _plain_object(Awaits) and not _PLAIN_OBJECTS[Awaits]
    assert not _plain_object(NotAType)
