"""The widget's chat endpoints (mounted under /widget/; the protocol is in deskhand/widget/chat.py)."""

from django.urls import URLPattern, path

from deskhand.widget import chat

urlpatterns: list[URLPattern] = [
    path("chat/availability", chat.chat_availability, name="chat-availability"),
    path("chats", chat.start, name="chat-start"),
    path("chats/<id:chat_id>/messages", chat.post_message, name="chat-messages"),
    path("chats/<id:chat_id>/events", chat.events, name="chat-events"),
    path("chats/<id:chat_id>/end", chat.end, name="chat-end"),
    path("chats/<id:chat_id>/transcript", chat.transcript, name="chat-transcript"),
]
