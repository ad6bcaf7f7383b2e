from deskhand.work.models.items import Assignee, Category, Channel, Follower, Item, Kind, Priority, Status
from deskhand.work.models.messages import Attachment, Message, MessageKind
from deskhand.work.models.projects import Folder, Portfolio, Project
from deskhand.work.models.timesheets import TimeEntry
from deskhand.work.models.workspace import ItemPresence, ItemSeen, SavedView

__all__ = [
    "Assignee", "Attachment", "Category", "Channel", "Folder", "Follower", "Item", "ItemPresence", "ItemSeen",
    "Kind", "Message", "MessageKind", "Portfolio", "Priority", "Project", "SavedView", "Status", "TimeEntry",
]
