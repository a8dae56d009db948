"""Saved searches and their alerts: "Save this search", "Get alerts like this", the list
and detail pages with their /api/v1 twins, the Atom feed and one-click unsubscribe.

A saved search belongs to its owner (the signed-in account, else the anonymous session);
any other owner's id is 404. The feed and unsubscribe routes are reached by random tokens
instead (a feed reader and a mail client have no session); an unknown token is 404 too.
Unsubscribe is a POST (RFC 8058 one-click: the mail client posts
``List-Unsubscribe=One-Click``), so a link scanner that follows the GET changes nothing.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from trialscout.alerts.models import (
    DELIVERY_LABELS,
    AlertItem,
    SavedSearch,
    SavedSearchCreate,
    SavedSearchUpdate,
)
from trialscout.alerts.service import AlertsError, AlertService
from trialscout.web.accounts_context import current_account
from trialscout.web.context import web_context
from trialscout.web.notes_routes import add_private_page, not_found, reading_owner, writing_owner
from trialscout.web.params import SearchQuery
from trialscout.web.problems import ProblemException, problem_responses
from trialscout.web.visitor import CsrfDep, VisitorDep, form_fields

SearchId = Annotated[int, Path(ge=1, le=2**31 - 1, description="A saved search id of yours.")]
Token = Annotated[str, Path(min_length=20, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
LIST_FIELDS = {"status", "site_status", "phase", "study_type"}
MAX_SEARCH_CHARS = 4_000


class SavedSearchList(BaseModel):
    searches: list[SavedSearch]
    signed_in: bool
    can_email: bool


class SavedSearchDetail(BaseModel):
    search: SavedSearch
    search_href: str
    alerts: list[AlertItem]
    can_email: bool


class UnsubscribePage(BaseModel):
    token: str
    done: bool
    name: str | None = None


def _service(request: Request) -> AlertService:
    return AlertService(web_context(request).core)


def _can_email(request: Request) -> bool:
    account = current_account(request)
    return account is not None and account.verified


def saved_searches(request: Request) -> SavedSearchList:
    """Your saved searches."""
    owner = reading_owner(request)
    found = _service(request).list_searches(owner) if owner else []
    return SavedSearchList(searches=found, signed_in=current_account(request) is not None,
                           can_email=_can_email(request))


def _owned(request: Request, search_id: int) -> SavedSearch:
    owner = reading_owner(request)
    found = _service(request).get(owner, search_id) if owner else None
    if found is None:
        raise not_found("saved search")
    return found


def saved_search(request: Request, search_id: SearchId) -> SavedSearchDetail:
    """One saved search of yours with its latest alerts."""
    found = _owned(request, search_id)
    owner = reading_owner(request)
    assert owner is not None
    items = _service(request).alerts(owner, search_id) or []
    query = found.request.model_dump(mode="json", exclude_defaults=True,
                                     exclude={"page", "page_size", "facets", "sort"})
    href = "/search?" + urlencode(query, doseq=True)
    return SavedSearchDetail(search=found, search_href=href, alerts=items,
                             can_email=_can_email(request))


def create_saved_search(request: Request, body: SavedSearchCreate,
                        visitor: VisitorDep) -> SavedSearch:
    """Save a search (its words, filters and place) for alerts. Email needs a signed-in,
    verified account; everyone gets the Atom feed."""
    owner = writing_owner(request, visitor)
    try:
        return _service(request).save(owner, body)
    except AlertsError as exc:
        raise ProblemException(422, str(exc), "validation") from None


def update_saved_search(request: Request, search_id: SearchId,
                        body: SavedSearchUpdate) -> SavedSearch:
    """Rename a saved search or change how often it emails."""
    _owned(request, search_id)
    owner = reading_owner(request)
    assert owner is not None
    updated = _service(request).update(owner, search_id, body)
    if updated is None:
        raise not_found("saved search")
    return updated


def delete_saved_search(request: Request, search_id: SearchId) -> Response:
    """Delete a saved search and its alerts."""
    owner = reading_owner(request)
    if not owner or not _service(request).delete(owner, search_id):
        raise not_found("saved search")
    return Response(status_code=204)


def feed(request: Request, token: Token) -> Response:
    """The Atom feed of a saved search (the token is its secret)."""
    body = _service(request).feed(token)
    if body is None:
        raise ProblemException(404, "No feed at this address.", "not-found")
    return Response(body, media_type="application/atom+xml",
                    headers={"Cache-Control": "private, max-age=300",
                             "X-Robots-Tag": "noindex"})


def unsubscribe_one_click(request: Request, token: Token) -> Response:
    """RFC 8058 one-click unsubscribe: no session, no CSRF token, the token is the key."""
    name = _service(request).unsubscribe(token)
    if name is None:
        raise ProblemException(404, "No saved search with this unsubscribe link.",
                               "not-found")
    accept = request.headers.get("accept", "")
    if "text/html" in accept:
        return web_context(request).renderer.page(
            request, "alert_unsubscribe.html", page=UnsubscribePage(token=token, done=True,
                                                                   name=name))
    return Response(status_code=204)


def unsubscribe_page(request: Request, token: Token) -> UnsubscribePage:
    """The page behind the footer link: one button that unsubscribes."""
    return UnsubscribePage(token=token, done=False)


# ------------------------------------------------------------------ forms
Fields = Annotated[dict[str, str], Depends(form_fields)]


async def _search_from_form(request: Request) -> SearchQuery:
    """The search being saved: the search page's query string, posted as ``search``."""
    form = await request.form(max_files=0, max_fields=100)
    raw = form.get("search")
    text = raw if isinstance(raw, str) else ""
    if len(text) > MAX_SEARCH_CHARS:
        raise ProblemException(422, "The search is too long to save.", "validation")
    data: dict[str, object] = {}
    for key, values in parse_qs(text, keep_blank_values=False).items():
        if key in {"sort", "page", "page_size", "facets", "match"}:
            continue
        data[key] = values if key in LIST_FIELDS else values[-1]
    try:
        return SearchQuery.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ProblemException(422, f"This search cannot be saved: {first['msg']}",
                               "validation") from None


FormSearch = Annotated[SearchQuery, Depends(_search_from_form)]


def post_create_form(request: Request, visitor: VisitorDep, fields: Fields,
                     search: FormSearch) -> RedirectResponse:
    delivery = fields.get("delivery", "immediate")
    if delivery not in DELIVERY_LABELS:
        raise ProblemException(422, "Choose how often to get emails.", "validation")
    created = create_saved_search(request, SavedSearchCreate.model_validate({
        "request": search.to_request(), "name": fields.get("name") or None,
        "delivery": delivery}), visitor)
    return RedirectResponse(f"/alerts/{created.id}?saved=1", status_code=303)


def post_update_form(request: Request, search_id: SearchId, fields: Fields
                     ) -> RedirectResponse:
    try:
        change = SavedSearchUpdate.model_validate({
            "name": fields.get("name") or None, "delivery": fields.get("delivery") or None})
    except ValidationError:
        raise ProblemException(422, "Choose a name of at most 200 characters and a "
                               "delivery.", "validation") from None
    update_saved_search(request, search_id, change)
    return RedirectResponse(f"/alerts/{search_id}?updated=1", status_code=303)


def post_delete_form(request: Request, search_id: SearchId) -> RedirectResponse:
    delete_saved_search(request, search_id)
    return RedirectResponse("/alerts?deleted=1", status_code=303)


def _unsubscribe_html(request: Request, token: Token) -> HTMLResponse:
    page = unsubscribe_page(request, token)
    return web_context(request).renderer.page(request, "alert_unsubscribe.html", page=page)


def register(api: APIRouter, pages: APIRouter) -> None:
    owned = problem_responses(404)
    changing = problem_responses(403, 404, 413, 422)
    api.add_api_route("/alerts", saved_searches, methods=["GET"],
                      response_model=SavedSearchList, tags=["alerts"],
                      summary="My saved searches")
    api.add_api_route("/alerts", create_saved_search, methods=["POST"], status_code=201,
                      response_model=SavedSearch, responses=changing,
                      dependencies=[CsrfDep], tags=["alerts"], summary="Save a search")
    api.add_api_route("/alerts/{search_id}", saved_search, methods=["GET"],
                      response_model=SavedSearchDetail, responses=owned, tags=["alerts"],
                      summary="A saved search and its alerts")
    api.add_api_route("/alerts/{search_id}", update_saved_search, methods=["PATCH"],
                      response_model=SavedSearch, responses=changing,
                      dependencies=[CsrfDep], tags=["alerts"],
                      summary="Rename a saved search or change its delivery")
    api.add_api_route("/alerts/{search_id}", delete_saved_search, methods=["DELETE"],
                      status_code=204, response_class=Response, responses=changing,
                      dependencies=[CsrfDep], tags=["alerts"], summary="Delete a saved search")
    for router in (api, pages):
        router.add_api_route("/alerts/feed/{token}", feed, methods=["GET"],
                             response_class=Response, responses=owned, tags=["alerts"],
                             summary="Atom feed of a saved search",
                             include_in_schema=router is api,
                             name=f"alerts_feed_{'api' if router is api else 'page'}")
        router.add_api_route("/alerts/unsubscribe/{token}", unsubscribe_one_click,
                             methods=["POST"], status_code=204, response_class=Response,
                             responses=owned, tags=["alerts"],
                             summary="One-click unsubscribe (RFC 8058)",
                             include_in_schema=router is api,
                             name=f"alerts_unsubscribe_{'api' if router is api else 'page'}")
    add_private_page(pages, "/alerts", saved_searches, "alerts.html")
    add_private_page(pages, "/alerts/{search_id}", saved_search, "alert.html")
    pages.add_api_route("/alerts/unsubscribe/{token}", _unsubscribe_html, methods=["GET"],
                        response_class=HTMLResponse, include_in_schema=False)
    pages.add_api_route("/alerts", post_create_form, methods=["POST"], dependencies=[CsrfDep],
                        include_in_schema=False, response_model=None)
    pages.add_api_route("/alerts/{search_id}", post_update_form, methods=["POST"],
                        dependencies=[CsrfDep], include_in_schema=False, response_model=None)
    pages.add_api_route("/alerts/{search_id}/delete", post_delete_form, methods=["POST"],
                        dependencies=[CsrfDep], include_in_schema=False, response_model=None)
